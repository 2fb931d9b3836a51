// An object seen through a proxy that replaces one method. Every other method runs on the object
// itself (bound to it, not to the proxy), so a class with private fields, such as PGlite, keeps working.
export function replacingMethod<T extends object, K extends keyof T>(target: T, name: K, method: T[K]): T {
  return new Proxy(target, {
    get(object, property) {
      if (property === name) return method;
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
