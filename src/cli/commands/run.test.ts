import { describe, expect, it } from 'vitest'
import { buildCreateRequest } from './run.js'
import { buildExecConfig } from './exec.js'

describe('buildCreateRequest', () => {
  it('matches the captured body of `docker run --rm busybox echo hi`', () => {
    const { body } = buildCreateRequest({ image: 'busybox', args: ['echo', 'hi'], opts: { rm: true }, detach: false })
    expect(body).toMatchObject({
      AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false, StdinOnce: false,
      Env: null, Cmd: ['echo', 'hi'], Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null, Labels: {},
    })
    expect(body.HostConfig).toMatchObject({
      AutoRemove: true, NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ConsoleSize: [0, 0],
      PortBindings: {}, Binds: null, LogConfig: { Type: '', Config: {} },
    })
    expect(Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {})).toEqual(['default'])
  })
  it('-it sets stdin attach and StdinOnce', () => {
    const { body } = buildCreateRequest({ image: 'busybox', args: ['sh'], opts: { tty: true, interactive: true, rm: true }, detach: false, console: [40, 120] })
    expect(body).toMatchObject({ AttachStdin: true, Tty: true, OpenStdin: true, StdinOnce: true })
    expect(body.HostConfig?.ConsoleSize).toEqual([40, 120])
  })
  it('-d -p 8080:80 --name x', () => {
    const r = buildCreateRequest({ image: 'img', args: [], opts: { publish: ['8080:80'], name: 'x' }, detach: true })
    expect(r.name).toBe('x')
    expect(r.body).toMatchObject({ AttachStdin: false, AttachStdout: false, AttachStderr: false, ExposedPorts: { '80/tcp': {} }, Cmd: null })
    expect(r.body.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] })
  })
  it('env, labels, entrypoint, volumes, network', () => {
    const { body } = buildCreateRequest({
      image: 'i', args: [], detach: true,
      opts: { env: ['A=1'], label: ['k=v'], entrypoint: '', volume: ['/data', '/h:/c:ro'], network: ['host'], init: true, stopTimeout: '5' },
    })
    expect(body.Env).toEqual(['A=1'])
    expect(body.Labels).toEqual({ k: 'v' })
    expect(body.Entrypoint).toEqual([''])
    expect(body.Volumes).toEqual({ '/data': {} })
    expect(body.HostConfig?.Binds).toEqual(['/h:/c:ro'])
    expect(body.HostConfig?.NetworkMode).toBe('host')
    expect(body.HostConfig?.Init).toBe(true)
    expect(body.StopTimeout).toBe(5)
  })
})

describe('buildExecConfig', () => {
  it('matches the captured exec -it body', () => {
    expect(buildExecConfig(['sh'], { tty: true, interactive: true }, [40, 120])).toEqual({
      User: '', Privileged: false, Tty: true, ConsoleSize: [40, 120], AttachStdin: true, AttachStderr: true,
      AttachStdout: true, Detach: false, DetachKeys: '', Env: null, WorkingDir: '', Cmd: ['sh'],
    })
  })
})
