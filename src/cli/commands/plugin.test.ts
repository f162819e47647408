import { describe, expect, it } from 'vitest'
import { renderFormat } from '../output/format.js'
import { escapePathSegment, PLUGIN_HEADERS, pluginConfigProblem, pluginFormat, pluginRow } from './plugin.js'

describe('plugin requests', () => {
  it('escapes names in the path as Go url paths are escaped', () => {
    expect(escapePathSegment('vieux/sshfs:latest')).toBe('vieux/sshfs:latest')
    expect(escapePathSegment('a b?c%#é')).toBe('a%20b%3Fc%25%23%C3%A9')
  })

  it('reads config.json as encoding/json fills types.PluginConfig', () => {
    expect(pluginConfigProblem('{"Description":"x"} trailing')).toBeUndefined()
    expect(pluginConfigProblem('null')).toBeUndefined()
    expect(pluginConfigProblem('')).toBe('EOF')
    expect(pluginConfigProblem('xx')).toBe("invalid character 'x' looking for beginning of value")
    expect(pluginConfigProblem('[1]')).toBe('json: cannot unmarshal array into Go value of type types.PluginConfig')
    expect(pluginConfigProblem('12')).toBe('json: cannot unmarshal number into Go value of type types.PluginConfig')
    expect(pluginConfigProblem('{"a":')).toBe('unexpected EOF')
  })
})

describe('plugin ls output', () => {
  const p = { Id: 'f'.repeat(64), Name: 'vieux/sshfs:latest', Enabled: true, PluginReference: 'docker.io/vieux/sshfs:latest', Config: { Description: 'sshFS plugin for Docker\nwith a description that goes on for a while' } }

  it('formats as docker: table, quiet, raw, and a template as given even with --quiet', () => {
    expect(pluginFormat('table', false)).toBe('table {{.ID}}\t{{.Name}}\t{{.Description}}\t{{.Enabled}}')
    expect(pluginFormat('table', true)).toBe('{{.ID}}')
    expect(pluginFormat('raw', true)).toBe('plugin_id: {{.ID}}')
    expect(pluginFormat('{{.Name}}', true)).toBe('{{.Name}}')
  })

  it('truncates the ID and the description unless --no-trunc', () => {
    expect(renderFormat(pluginFormat('table', false), [pluginRow(p, true)], PLUGIN_HEADERS)).toBe(
      'ID             NAME                 DESCRIPTION                                     ENABLED\n'
      + 'ffffffffffff   vieux/sshfs:latest   sshFS plugin for Dockerwith a description th…   true\n')
    expect(renderFormat('{{.ID}} {{.Description}}', [pluginRow(p, false)], PLUGIN_HEADERS))
      .toBe(`${'f'.repeat(64)} sshFS plugin for Dockerwith a description that goes on for a while\n`)
  })

  it('encodes rows for json with sorted keys, as formatter.MarshalJSON', () => {
    expect(renderFormat('json', [pluginRow(p, true)], PLUGIN_HEADERS))
      .toBe('{"Description":"sshFS plugin for Dockerwith a description th…","Enabled":true,"ID":"ffffffffffff","Name":"vieux/sshfs:latest","PluginReference":"docker.io/vieux/sshfs:latest"}\n')
  })
})
