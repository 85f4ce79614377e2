// `database:kv` as a component provider written in JavaScript (componentize-js).
//
// `Get`, `Set` and `Delete` over a Map kept in the warm instance (gone when the host recycles
// the instance: a cache, not storage). Payloads: `Get` and `Delete` take the key; `Set` takes
// the key, a NUL byte, then the value. Same contract and error texts as the Rust example in
// providers/components/kv.

/** @type {Map<string, Uint8Array>} keys are byte strings (one char per byte: binary safe) */
const map = new Map();

// A thrown value becomes the `error` of `result<list<u8>, error>`: jco's convention is an
// Error whose `payload` is the WIT variant value.
class ProviderError extends Error {
  constructor(payload) {
    super(payload.tag);
    this.payload = payload;
  }
}

const invalidInput = (message) => new ProviderError({ tag: 'invalid-input', val: message });

function byteKey(bytes) {
  let key = '';
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

function get(key) {
  const value = map.get(byteKey(key));
  if (value === undefined) {
    throw new ProviderError({
      tag: 'failure',
      val: { message: 'key not found', payload: key },
    });
  }
  return value;
}

function set(payload) {
  const split = payload.indexOf(0);
  if (split < 0) throw invalidInput('Set expects key, NUL, value');
  if (split === 0) throw invalidInput('empty key');
  // slice copies: the payload's buffer belongs to this call.
  map.set(byteKey(payload.subarray(0, split)), payload.slice(split + 1));
  return new Uint8Array();
}

function del(key) {
  map.delete(byteKey(key));
  return new Uint8Array();
}

const operations = { Get: get, Set: set, Delete: del };

/** The `handler` export: dispatch on the operation name. */
export const handler = {
  handle(call, payload) {
    if (!Object.hasOwn(operations, call.operation)) {
      throw new ProviderError({ tag: 'unknown-operation' });
    }
    return operations[call.operation](payload);
  },
};
