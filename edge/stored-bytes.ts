// Bytes the store keeps get an allocation of their own, exactly their size. A small Buffer made
// by Buffer.from, Buffer.concat or allocUnsafe is a slice of node's shared 8 KiB pool, and a view
// into a socket read or an IPC message is a slice of that whole read: kept for hours in the
// store, either keeps memory alive that the byte budget never counted (on the bench's mix, about
// 7 KB per stored object before this).

/** `parts` (`size` bytes in all) copied into one Buffer of its own. */
export function ownBytes(parts: readonly Uint8Array[], size: number): Buffer {
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** `text` as latin1 bytes in a Buffer of its own. */
export function ownLatin1(text: string): Buffer {
  const out = Buffer.allocUnsafeSlow(text.length);
  out.write(text, 0, 'latin1');
  return out;
}
