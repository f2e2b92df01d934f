/**
 * Small integer ids of objects by identity, for cache keys: the first object asked about gets 0,
 * the next 1, and so on. A WeakMap holds them, so an id lives as long as its object.
 */
export function identityIds(): (o: object) => number {
  const ids = new WeakMap<object, number>();
  let next = 0;
  return (o) => {
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = next++));
    return id;
  };
}
