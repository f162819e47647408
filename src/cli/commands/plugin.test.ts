import { describe, expect, it } from 'vitest'
import { renderFormat } from '../output/format.js'
import {
  escapePathSegment, familiarRefString, parseNormalizedNamed, PLUGIN_HEADERS, pluginConfigProblem, pluginFormat, pluginRow, refString, tagNameOnly,
} from './plugin.js'

const problem = (s: string): string => {
  try {
    parseNormalizedNamed(s)
    return ''
  } catch (e) {
    return (e as Error).message
  }
}

describe('ParseNormalizedNamed', () => {
  it('normalises names as distribution/reference does', () => {
    expect(refString(parseNormalizedNamed('foo'))).toBe('docker.io/library/foo')
    expect(refString(parseNormalizedNamed('vieux/sshfs:1'))).toBe('docker.io/vieux/sshfs:1')
    expect(refString(parseNormalizedNamed('index.docker.io/x'))).toBe('docker.io/library/x')
    expect(refString(parseNormalizedNamed('localhost:5000/x/y'))).toBe('localhost:5000/x/y')
    expect(refString(parseNormalizedNamed('Foo/bar'))).toBe('Foo/bar')
    expect(refString(tagNameOnly(parseNormalizedNamed('x')))).toBe('docker.io/library/x:latest')
  })

  it('gives back the familiar form', () => {
    expect(familiarRefString(tagNameOnly(parseNormalizedNamed('docker.io/library/x')))).toBe('x:latest')
    expect(familiarRefString(parseNormalizedNamed('vieux/sshfs:1'))).toBe('vieux/sshfs:1')
    expect(familiarRefString(parseNormalizedNamed('docker.io/library/a/b'))).toBe('library/a/b')
    expect(familiarRefString(parseNormalizedNamed('127.0.0.1:5000/p'))).toBe('127.0.0.1:5000/p')
  })

  it('refuses with its exact words', () => {
    expect(problem('BAD')).toBe('invalid reference format: repository name (library/BAD) must be lowercase')
    expect(problem('a'.repeat(64))).toBe(`invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`)
    expect(problem('x@sha256:abc')).toBe('invalid reference format')
    expect(problem(`x@sha256:${'a'.repeat(40)}`)).toBe('invalid checksum digest length')
    expect(problem(`x@sha256:${'A'.repeat(64)}`)).toBe('invalid checksum digest format')
    expect(problem(`x@md5:${'a'.repeat(32)}`)).toBe('unsupported digest algorithm')
    expect(problem('')).toBe('invalid reference format')
    expect(problem(`x@sha256:${'a'.repeat(64)}`)).toBe('')
  })
})

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
