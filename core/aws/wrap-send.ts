/**
 * The client with its `send` replaced, everything else (config, middleware stack, destroy) its
 * own: how a job limits or counts its requests on a client others share, without touching it.
 */
export function wrapSend<C extends { send: (...args: never[]) => unknown }>(
  client: C,
  send: (...args: Parameters<C['send']>) => ReturnType<C['send']>,
): C {
  return new Proxy(client, {
    get: (target, prop, receiver) => (prop === 'send' ? send : Reflect.get(target, prop, receiver)),
  });
}
