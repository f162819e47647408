import { describe, expect, it } from 'vitest'
import type { SearchResult } from '../../api/types/index.js'
import { renderFormat } from '../output/format.js'
import { DEFAULT_SEARCH_TABLE, marshalsRow, SEARCH_HEADERS, searchFormat, searchRow, searchServerKey } from './search.js'

const r = (name: string, description = '', stars = 0, official = false): SearchResult =>
  ({ name, description, star_count: stars, is_official: official, is_automated: false })

describe('search output', () => {
  const long = 'Busybox base image.\nThe Swiss army knife\rof embedded Linux, in one small binary.'
  it('truncates descriptions to 45 columns with … unless --no-trunc, newlines as spaces', () => {
    expect(searchRow(r('busybox', long), { trunc: true, json: false }).Description).toBe('Busybox base image. The Swiss army knife of …')
    expect(searchRow(r('busybox', long), { trunc: false, json: false }).Description).toBe(long.replace(/[\n\r]/g, ' '))
  })
  it('prints docker\'s table', () => {
    const rows = [r('busybox', 'Busybox base image.', 3412, true), r('127.0.0.1:5000/tools/busybox')].map((x) => searchRow(x, { trunc: true, json: false }))
    expect(renderFormat(searchFormat(undefined), rows, SEARCH_HEADERS)).toBe([
      'NAME                           DESCRIPTION           STARS     OFFICIAL',
      'busybox                        Busybox base image.   3412      [OK]',
      '127.0.0.1:5000/tools/busybox                         0         ',
      '',
    ].join('\n'))
    expect(renderFormat(searchFormat('table'), [], SEARCH_HEADERS)).toBe('NAME      DESCRIPTION   STARS     OFFICIAL\n')
    expect(searchFormat('table')).toBe(DEFAULT_SEARCH_TABLE)
  })
  it('marshals rows as docker\'s search context: sorted keys, string values, true/false', () => {
    const f = searchFormat('json')
    expect(marshalsRow(f)).toBe(true)
    expect(marshalsRow('{{.Name}}')).toBe(false)
    const row = searchRow(r('busybox', 'd', 7, true), { trunc: true, json: marshalsRow(f) })
    expect(renderFormat(f, [row], SEARCH_HEADERS)).toBe('{"Description":"d","IsOfficial":"true","Name":"busybox","StarCount":"7"}\n')
    expect(renderFormat('{{.Name}}: {{.StarCount}}', [row], SEARCH_HEADERS)).toBe('busybox: 7\n')
  })
})

describe('searchServerKey', () => {
  it('names the credentials of the term\'s registry', () => {
    expect(searchServerKey('busybox')).toBe('https://index.docker.io/v1/')
    expect(searchServerKey('me/busy')).toBe('https://index.docker.io/v1/')
    expect(searchServerKey('index.docker.io/busybox')).toBe('https://index.docker.io/v1/')
    expect(searchServerKey('127.0.0.1:5000/busy')).toBe('127.0.0.1:5000')
    expect(searchServerKey('localhost/busy')).toBe('localhost')
  })
})
