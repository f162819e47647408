/**
 * The plugin routes (moby api/server/router/plugin) of an engine with no
 * managed plugins: the list is empty, any named plugin is not found, and
 * installing one says berth has no plugin support. Logging and volume
 * drivers are built in (see the logging and volume services).
 */
import { notFound, notImplemented } from '../../../errors/index.js'
import type { Router } from '../../server/index.js'

const NO_PLUGINS = 'managed plugins are not supported by berth: its logging, volume and network drivers are built in'

export function pluginRoutes(r: Router): void {
  r.get('/plugins', (ctx) => {
    ctx.filters()
    ctx.send(200, [])
  })
  const refuse = (): never => {
    throw notImplemented(NO_PLUGINS)
  }
  r.get('/plugins/privileges', refuse)
  r.post('/plugins/pull', refuse)
  r.post('/plugins/create', refuse)
  const missing = (ctx: { params: Record<string, string> }): never => {
    throw notFound(`plugin ${JSON.stringify(ctx.params.name ?? '')} not found`)
  }
  r.get('/plugins/{name:.*}/json', missing)
  r.delete('/plugins/{name:.*}', missing)
  for (const action of ['enable', 'disable', 'push', 'set', 'upgrade']) r.post(`/plugins/{name:.*}/${action}`, missing)
}
