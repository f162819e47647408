/**
 * Template data that behaves as a Go struct: the template engine treats class
 * instances as structs (`*type` in messages, an unknown field is an error)
 * and plain objects as maps (an unknown key prints "<no value>"). docker's
 * list contexts are structs, so berth's rows must be too.
 */
const classes = new Map<string, { prototype: object }>()

/** `fields` as an instance of a class named `type` (e.g. "formatter.ContainerContext"). */
export function goStruct<T extends object>(type: string, fields: T): T {
  let cls = classes.get(type)
  if (!cls) {
    cls = class {}
    Object.defineProperty(cls, 'name', { value: type })
    classes.set(type, cls)
  }
  return Object.assign(Object.create(cls.prototype) as T, fields)
}

/** Whether `v` was made by goStruct. */
export function isGoStruct(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return [...classes.values()].some((c) => c.prototype === proto)
}
