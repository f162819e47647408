import { EngineError } from '../errors/index.js'

/**
 * A parse or execution error, worded like Go's text/template
 * (`template: name:1:5: executing "name" at <.Foo>: ...`). The kind is
 * invalid-argument: a template comes from the user.
 */
export class TemplateError extends EngineError {
  constructor(message: string, opts?: ErrorOptions) {
    super('invalid-argument', message, opts)
    this.name = 'TemplateError'
  }
}
