import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, parseDaemonHost, tlsConfig } from './config.js'

const withFile = (json: unknown) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'berth-cfg-')), 'daemon.json')
  writeFileSync(file, JSON.stringify(json))
  return { configFile: file }
}
const noFile = () => withFile({})

describe('parseDaemonHost', () => {
  it('fills in what dockerd fills in', () => {
    expect(parseDaemonHost('tcp://127.0.0.1:2376')).toBe('tcp://127.0.0.1:2376')
    expect(parseDaemonHost('tcp://')).toBe('tcp://localhost:2375')
    expect(parseDaemonHost('tcp://:9999')).toBe('tcp://localhost:9999')
    expect(parseDaemonHost('127.0.0.1:7')).toBe('tcp://127.0.0.1:7')
    expect(parseDaemonHost('unix://')).toBe('unix:///run/berth/berth.sock')
    expect(parseDaemonHost('unix:///x.sock')).toBe('unix:///x.sock')
  })

  it('refuses what dockerd refuses', () => {
    expect(() => parseDaemonHost('fd://')).toThrow("invalid bind address (fd://): unsupported proto 'fd'")
    expect(() => parseDaemonHost('tcp://1.2.3.4:5/path')).toThrow('should not contain a path element')
    expect(() => parseDaemonHost('tcp://1.2.3.4:0')).toThrow('invalid port: 0')
  })
})

describe('tlsConfig', () => {
  it('is off unless tls or tlsverify is given', () => {
    expect(tlsConfig({}, '/c')).toBeUndefined()
  })

  it('verifies clients with --tls alone, as dockerd', () => {
    expect(tlsConfig({ tls: true }, '/c')).toEqual({ enabled: true, verify: true, caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' })
  })

  it('turns TLS on with --tlsverify=false, without client verification', () => {
    expect(tlsConfig({ tlsverify: false }, '/c')).toMatchObject({ enabled: true, verify: false })
  })

  it('is off, explicitly, with --tls=false', () => {
    expect(tlsConfig({ tls: false }, '/c')).toMatchObject({ enabled: false, verify: false })
  })
})

describe('loadConfig: hosts, TLS and the socket group', () => {
  it('refuses tcp without TLS, naming the override', async () => {
    await expect(loadConfig({ ...noFile(), hosts: ['tcp://127.0.0.1:2375'] })).rejects.toThrow(/refusing to listen on tcp:\/\/127\.0\.0\.1:2375 without TLS.*'--tls=false'/)
  })

  it('takes tcp with TLS from daemon.json, and with an explicit --tls=false', async () => {
    const cfg = await loadConfig({ ...withFile({ hosts: ['tcp://127.0.0.1:2376'], tlsverify: true, tlscacert: '/x/ca.pem' }) })
    expect(cfg.tls).toMatchObject({ enabled: true, verify: true, caFile: '/x/ca.pem' })
    const off = await loadConfig({ ...noFile(), hosts: ['tcp://127.0.0.1:2375'], tls: { tls: false } })
    expect(off.tls?.enabled).toBe(false)
  })

  it('refuses a TLS key given both ways', async () => {
    await expect(loadConfig({ ...withFile({ tlsverify: true }), tls: { tlsverify: true } })).rejects.toThrow('specified both as a flag and in the configuration file: tlsverify')
  })

  it('defaults the group to berth, and marks a given one', async () => {
    const cfg = await loadConfig(noFile())
    expect(cfg).toMatchObject({ group: 'berth', groupExplicit: false })
    expect(await loadConfig({ ...withFile({ group: 'staff' }) })).toMatchObject({ group: 'staff', groupExplicit: true })
  })
})
