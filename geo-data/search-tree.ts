// The MaxMind DB search tree: a binary trie over address bits, root first. Each node has two
// records (bit 0 → left, bit 1 → right); a record points to another node, to a data record, or
// to "no data". Networks are inserted least specific first, so a more specific network simply
// carves its range out of the one covering it: walking down splits a leaf into a node whose
// two records both keep the covering value, and only the path to the new network changes.

/** A data record's id (the writer's deduplicated record index), or null for "no data". */
export type Leaf = number | null;
export interface TreeNode {
  left: Child;
  right: Child;
}
export type Child = TreeNode | Leaf;

export class SearchTree {
  readonly root: TreeNode = { left: null, right: null };

  constructor(readonly bits: 32 | 128) {}

  /** Point `address/prefix` at `value`, replacing whatever was there (a node makes an alias). */
  set(address: bigint, prefix: number, value: Child): void {
    if (prefix === 0) {
      this.root.left = value;
      this.root.right = value;
      return;
    }
    let node = this.root;
    for (let depth = 0; depth < prefix - 1; depth++) {
      const right = this.bitAt(address, depth);
      let child = right ? node.right : node.left;
      if (!isNode(child)) {
        child = { left: child, right: child };
        if (right) node.right = child;
        else node.left = child;
      }
      node = child;
    }
    if (this.bitAt(address, prefix - 1)) node.right = value;
    else node.left = value;
  }

  /** What `address/prefix` holds now: the subtree there, or the leaf covering it. */
  get(address: bigint, prefix: number): Child {
    let child: Child = this.root;
    for (let depth = 0; depth < prefix && isNode(child); depth++) {
      child = this.bitAt(address, depth) ? child.right : child.left;
    }
    return child;
  }

  private bitAt(address: bigint, depth: number): boolean {
    return ((address >> BigInt(this.bits - 1 - depth)) & 1n) === 1n;
  }
}

export function isNode(child: Child): child is TreeNode {
  return child !== null && typeof child === 'object';
}

/**
 * Nodes in file order: breadth first from the root, which must be node 0. Aliases make the
 * tree a DAG, so a node reached twice keeps its first number.
 */
export function numberNodes(root: TreeNode): { nodes: TreeNode[]; numbers: Map<TreeNode, number> } {
  const nodes: TreeNode[] = [root];
  const numbers = new Map<TreeNode, number>([[root, 0]]);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    for (const child of [node.left, node.right]) {
      if (isNode(child) && !numbers.has(child)) {
        numbers.set(child, nodes.length);
        nodes.push(child);
      }
    }
  }
  return { nodes, numbers };
}

/** Write one node's two record values at `offset` in the layout of `recordSize` (spec §"Node Layout"). */
export function writeNode(buf: Buffer, offset: number, recordSize: 24 | 28 | 32, left: number, right: number): void {
  switch (recordSize) {
    case 24:
      buf.writeUIntBE(left, offset, 3);
      buf.writeUIntBE(right, offset + 3, 3);
      return;
    case 28:
      // 7 bytes: left's low 24 bits, a middle byte holding both high nibbles (left's first), right's low 24 bits.
      buf.writeUIntBE(left & 0xff_ffff, offset, 3);
      buf[offset + 3] = ((left >>> 24) << 4) | (right >>> 24);
      buf.writeUIntBE(right & 0xff_ffff, offset + 4, 3);
      return;
    case 32:
      buf.writeUInt32BE(left, offset);
      buf.writeUInt32BE(right, offset + 4);
      return;
  }
}
