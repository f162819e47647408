import { describe, expect, it } from 'vitest'
import { checkCreateShape } from './shape.js'

describe('checkCreateShape', () => {
  it('takes what the docker CLI sends, nulls and unknown fields included', () => {
    expect(() => checkCreateShape({
      Image: 'busybox', Cmd: ['sh'], Entrypoint: 'sh', Env: null, Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Volumes: {}, Future: 1,
      HostConfig: { Memory: 0, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, Ulimits: [], Binds: null, ConsoleSize: [0, 0] },
      NetworkingConfig: { EndpointsConfig: { bridge: {} } },
    })).not.toThrow()
    expect(() => checkCreateShape(null)).not.toThrow()
  })

  it('refuses a field of the wrong type as Go\'s decoder does, naming it', () => {
    const cases: Array<[unknown, string]> = [
      [{ Image: 5 }, 'json: cannot unmarshal number 5 into Go struct field CreateRequest.Image of type string'],
      [{ HostConfig: 'x' }, 'json: cannot unmarshal string into Go struct field CreateRequest.HostConfig of type container.HostConfig'],
      [{ HostConfig: { Memory: 'lots' } }, 'json: cannot unmarshal string into Go struct field CreateRequest.HostConfig.Memory of type int64'],
      [{ HostConfig: { Memory: 1.5 } }, 'json: cannot unmarshal number 1.5 into Go struct field CreateRequest.HostConfig.Memory of type int64'],
      [{ HostConfig: { PortBindings: [1] } }, 'json: cannot unmarshal array into Go struct field CreateRequest.HostConfig.PortBindings of type nat.PortMap'],
      [{ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } }, 'json: cannot unmarshal number 80 into Go struct field CreateRequest.HostConfig.PortBindings.HostPort of type string'],
      [{ Labels: ['a'] }, 'json: cannot unmarshal array into Go struct field CreateRequest.Labels of type map[string]string'],
      [{ Cmd: 7 }, 'json: cannot unmarshal number 7 into Go struct field CreateRequest.Cmd of type strslice.StrSlice'],
      [[], 'json: cannot unmarshal array into Go value of type container.CreateRequest'],
    ]
    for (const [body, msg] of cases) expect(() => checkCreateShape(body), JSON.stringify(body)).toThrow(msg)
  })
})
