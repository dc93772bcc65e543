/**
 * Batch assembly on host tensors: stacking requests' tensors along dim 0 (padding dynamic dims to a common
 * size) and cutting a batch's outputs back into per-request row ranges. Works on bytes, never on per-element
 * JS objects, except BYTES tensors, whose elements are located once per tensor.
 */
import { DATATYPES, elementCount, type HostTensor, packBytesElements, splitBytesElements } from './datatypes.js';

/** Which end of a padded dimension the padding goes to: 'pre' (start) or 'post' (end). */
export type PadSide = 'pre' | 'post';

/**
 * Calls `copy(srcElement, dstElement, length)` for each contiguous run of the last dimension when a tensor of
 * `srcShape` is placed inside one of `dstShape` (every dim ≥ the source's; extra room is padding on `side`).
 * Offsets count elements.
 */
export function forEachRun(
  srcShape: readonly number[],
  dstShape: readonly number[],
  side: PadSide,
  copy: (src: number, dst: number, length: number) => void,
): void {
  const rank = srcShape.length;
  if (rank === 0) {
    copy(0, 0, 1);
    return;
  }
  if (elementCount(srcShape) === 0) return;
  const shift = srcShape.map((dim, axis) => (side === 'pre' ? dstShape[axis]! - dim : 0));
  // Element strides of the destination.
  const dstStride = new Array<number>(rank);
  dstStride[rank - 1] = 1;
  for (let axis = rank - 2; axis >= 0; axis--) dstStride[axis] = dstStride[axis + 1]! * dstShape[axis + 1]!;
  const runLength = srcShape[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  let src = 0;
  for (;;) {
    let dst = shift[rank - 1]!;
    for (let axis = 0; axis < rank - 1; axis++) dst += (index[axis]! + shift[axis]!) * dstStride[axis]!;
    copy(src, dst, runLength);
    src += runLength;
    // Advance the multi-index over all dims but the last (odometer order = row-major).
    let axis = rank - 2;
    while (axis >= 0) {
      index[axis]!++;
      if (index[axis]! < srcShape[axis]!) break;
      index[axis] = 0;
      axis--;
    }
    if (axis < 0) return;
  }
}

/** The smallest shape holding every tensor's trailing dims (the elementwise max), after the row dim. */
export function commonTrailingShape(tensors: readonly HostTensor[]): number[] {
  const trailing = tensors[0]!.shape.slice(1);
  for (const tensor of tensors) tensor.shape.slice(1).forEach((dim, axis) => (trailing[axis] = Math.max(trailing[axis]!, dim)));
  return trailing;
}

/**
 * Stacks tensors (same name, datatype and rank) along dim 0 into one fresh tensor whose trailing dims are
 * `trailing`; a smaller tensor is padded with zeros (empty strings for BYTES) on `side`. The result owns a
 * new ArrayBuffer (transferable to a worker).
 */
export function concatRows(tensors: readonly HostTensor[], trailing: readonly number[], side: PadSide): HostTensor {
  const first = tensors[0]!;
  const rows = tensors.reduce((sum, tensor) => sum + tensor.shape[0]!, 0);
  const shape = [rows, ...trailing];
  const rowElements = elementCount(trailing);
  const size = DATATYPES[first.datatype].elementBytes;

  if (first.datatype === 'BYTES') {
    const empty = new Uint8Array(0);
    const elements = new Array<Uint8Array>(rows * rowElements).fill(empty);
    let base = 0;
    for (const tensor of tensors) {
      const own = splitBytesElements(tensor.data);
      forEachRun(tensor.shape, [tensor.shape[0]!, ...trailing], side, (src, dst, length) => {
        for (let i = 0; i < length; i++) elements[base + dst + i] = own[src + i]!;
      });
      base += tensor.shape[0]! * rowElements;
    }
    return { name: first.name, datatype: first.datatype, shape, data: packBytesElements(elements) };
  }

  const data = new Uint8Array(rows * rowElements * size);
  let base = 0;
  for (const tensor of tensors) {
    const sameShape = tensor.shape.every((dim, axis) => axis === 0 || dim === trailing[axis - 1]);
    if (sameShape) {
      data.set(tensor.data, base);
    } else {
      forEachRun(tensor.shape, [tensor.shape[0]!, ...trailing], side, (src, dst, length) =>
        data.set(tensor.data.subarray(src * size, (src + length) * size), base + dst * size),
      );
    }
    base += tensor.shape[0]! * rowElements * size;
  }
  return { name: first.name, datatype: first.datatype, shape, data };
}

/**
 * Cuts a batch output into consecutive row ranges, one per entry of `rowCounts` (views, no copy, for numeric
 * types). The counts must add up to the tensor's dim 0.
 */
export function splitRows(tensor: HostTensor, rowCounts: readonly number[]): HostTensor[] {
  const trailing = tensor.shape.slice(1);
  const rowElements = elementCount(trailing);
  const elements = tensor.datatype === 'BYTES' ? splitBytesElements(tensor.data) : undefined;
  const size = DATATYPES[tensor.datatype].elementBytes;
  let row = 0;
  return rowCounts.map((rows) => {
    const start = row * rowElements;
    const end = (row + rows) * rowElements;
    row += rows;
    const data = elements ? packBytesElements(elements.slice(start, end)) : tensor.data.subarray(start * size, end * size);
    return { name: tensor.name, datatype: tensor.datatype, shape: [rows, ...trailing], data };
  });
}
