import { describe, expect, it } from 'vitest';
import { BATCH, BatchedSender, unbatch, type Batch } from './ipc-batch.js';

type Msg = { kind: string; n: number };
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function sender(): { out: BatchedSender<Msg>; written: (Msg | Batch<Msg>)[] } {
  const written: (Msg | Batch<Msg>)[] = [];
  return { out: new BatchedSender<Msg>((m) => written.push(m)), written };
}

const msg = (n: number): Msg => ({ kind: 'lease', n });

describe('BatchedSender', () => {
  it("sends a turn's first message at once and the rest together, in order, at the turn's end", async () => {
    const { out, written } = sender();
    out.send(msg(1));
    expect(written).toEqual([msg(1)]);
    out.send(msg(2));
    out.send(msg(3));
    out.send(msg(4));
    expect(written).toEqual([msg(1)]);
    await endOfTurn();
    expect(written).toEqual([msg(1), { kind: BATCH, msgs: [msg(2), msg(3), msg(4)] }]);
  });

  it('sends one message left for the end of the turn as itself, and nothing when none is left', async () => {
    const { out, written } = sender();
    out.send(msg(1));
    out.send(msg(2));
    await endOfTurn();
    expect(written).toEqual([msg(1), msg(2)]);
    out.send(msg(3));
    await endOfTurn();
    expect(written).toEqual([msg(1), msg(2), msg(3)]);
  });

  it("sends the next turn's first message at once again", async () => {
    const { out, written } = sender();
    out.send(msg(1));
    out.send(msg(2));
    out.send(msg(3));
    await endOfTurn();
    out.send(msg(4));
    expect(written.at(-1)).toEqual(msg(4));
    expect(written).toHaveLength(3);
  });
});

describe('unbatch', () => {
  it('hands on a lone message, and a batch one message at a time in the order sent', () => {
    const got: Msg[] = [];
    unbatch<Msg>(msg(1), (m) => got.push(m));
    unbatch<Msg>({ kind: BATCH, msgs: [msg(2), msg(3)] }, (m) => got.push(m));
    expect(got).toEqual([msg(1), msg(2), msg(3)]);
  });

  it('a round trip through a sender gives back every message in order', async () => {
    const got: Msg[] = [];
    const out = new BatchedSender<Msg>((m) => unbatch(m, (one) => got.push(one)));
    for (let n = 0; n < 10; n++) out.send(msg(n));
    await endOfTurn();
    out.send(msg(10));
    expect(got.map((m) => m.n)).toEqual([...Array(11).keys()]);
  });
});
