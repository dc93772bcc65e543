/**
 * Optimizers with Keras' update rules and defaults. A parameter's gradient is either dense or
 * sparse by rows (embeddings): for a sparse gradient only the listed rows are updated, and
 * stateful optimizers (momentum, RMSprop, Adam) keep and advance the state of those rows only —
 * the "lazy" sparse update TensorFlow's embedding optimizers use. Rows absent from a batch have a
 * zero gradient, so for plain (S)GD this is exact; for the others it avoids touching all
 * vocabSize × dim values on every step.
 */
export type OptimizerSpec =
  /** Full-batch gradient descent: the trainer uses the whole data set as one batch. */
  | { kind: 'gd'; learningRate?: number }
  /** Mini-batch stochastic gradient descent. */
  | { kind: 'sgd'; learningRate?: number }
  /** SGD with (heavy-ball) momentum, as Keras `SGD(momentum=…)`. */
  | { kind: 'momentum'; learningRate?: number; momentum?: number }
  | { kind: 'rmsprop'; learningRate?: number; rho?: number; epsilon?: number }
  | { kind: 'adam'; learningRate?: number; beta1?: number; beta2?: number; epsilon?: number };

export type OptimizerKind = OptimizerSpec['kind'];

/** One parameter and its gradient for one step. */
export interface ParameterUpdate {
  name: string;
  value: Float32Array;
  grad: Float32Array;
  /** When present, the gradient is sparse: only these rows (of `rowWidth` values) are non-zero. */
  sparseRows?: { rows: Int32Array; count: number; rowWidth: number };
}

export interface Optimizer {
  readonly kind: OptimizerKind;
  readonly learningRate: number;
  /** Applies one step to every parameter. */
  step(params: readonly ParameterUpdate[]): void;
}

/** Calls `kernel(start, end)` for each contiguous range of the parameter that has a gradient. */
function forEachRange(p: ParameterUpdate, kernel: (start: number, end: number) => void): void {
  if (!p.sparseRows) {
    kernel(0, p.value.length);
    return;
  }
  const { rows, count, rowWidth } = p.sparseRows;
  for (let r = 0; r < count; r++) {
    const start = rows[r]! * rowWidth;
    kernel(start, start + rowWidth);
  }
}

class StateSlots {
  private readonly slots = new Map<string, Float32Array>();
  get(name: string, slot: string, length: number): Float32Array {
    const key = `${name}/${slot}`;
    let s = this.slots.get(key);
    if (!s) {
      s = new Float32Array(length);
      this.slots.set(key, s);
    }
    return s;
  }
}

class GradientDescent implements Optimizer {
  constructor(
    readonly kind: 'gd' | 'sgd',
    readonly learningRate: number,
  ) {}
  step(params: readonly ParameterUpdate[]): void {
    const lr = this.learningRate;
    for (const p of params) {
      const { value, grad } = p;
      forEachRange(p, (s, e) => {
        for (let i = s; i < e; i++) value[i]! -= lr * grad[i]!;
      });
    }
  }
}

class Momentum implements Optimizer {
  readonly kind = 'momentum' as const;
  private readonly slots = new StateSlots();
  constructor(
    readonly learningRate: number,
    private readonly momentum: number,
  ) {}
  step(params: readonly ParameterUpdate[]): void {
    const { learningRate: lr, momentum: m } = this;
    for (const p of params) {
      const { value, grad } = p;
      const velocity = this.slots.get(p.name, 'velocity', value.length);
      forEachRange(p, (s, e) => {
        for (let i = s; i < e; i++) {
          const v = m * velocity[i]! - lr * grad[i]!;
          velocity[i] = v;
          value[i]! += v;
        }
      });
    }
  }
}

class RmsProp implements Optimizer {
  readonly kind = 'rmsprop' as const;
  private readonly slots = new StateSlots();
  constructor(
    readonly learningRate: number,
    private readonly rho: number,
    private readonly epsilon: number,
  ) {}
  step(params: readonly ParameterUpdate[]): void {
    const { learningRate: lr, rho, epsilon } = this;
    for (const p of params) {
      const { value, grad } = p;
      const meanSquare = this.slots.get(p.name, 'velocity', value.length);
      forEachRange(p, (s, e) => {
        for (let i = s; i < e; i++) {
          const g = grad[i]!;
          const ms = rho * meanSquare[i]! + (1 - rho) * g * g;
          meanSquare[i] = ms;
          // Keras 3 puts ε inside the square root.
          value[i]! -= (lr * g) / Math.sqrt(ms + epsilon);
        }
      });
    }
  }
}

class Adam implements Optimizer {
  readonly kind = 'adam' as const;
  private readonly slots = new StateSlots();
  private iterations = 0;
  constructor(
    readonly learningRate: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
  ) {}
  step(params: readonly ParameterUpdate[]): void {
    this.iterations++;
    const { beta1, beta2, epsilon } = this;
    const t = this.iterations;
    // Keras folds the bias corrections into the step size.
    const alpha = (this.learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    for (const p of params) {
      const { value, grad } = p;
      const m = this.slots.get(p.name, 'momentum', value.length);
      const v = this.slots.get(p.name, 'velocity', value.length);
      forEachRange(p, (s, e) => {
        for (let i = s; i < e; i++) {
          const g = grad[i]!;
          const mi = m[i]! + (g - m[i]!) * (1 - beta1);
          const vi = v[i]! + (g * g - v[i]!) * (1 - beta2);
          m[i] = mi;
          v[i] = vi;
          value[i]! -= (alpha * mi) / (Math.sqrt(vi) + epsilon);
        }
      });
    }
  }
}

/** Keras defaults: SGD 0.01, RMSprop and Adam 0.001, momentum 0.9, ε 1e-7. */
export function createOptimizer(spec: OptimizerSpec): Optimizer {
  switch (spec.kind) {
    case 'gd':
    case 'sgd':
      return new GradientDescent(spec.kind, spec.learningRate ?? 0.01);
    case 'momentum':
      return new Momentum(spec.learningRate ?? 0.01, spec.momentum ?? 0.9);
    case 'rmsprop':
      return new RmsProp(spec.learningRate ?? 0.001, spec.rho ?? 0.9, spec.epsilon ?? 1e-7);
    case 'adam':
      return new Adam(spec.learningRate ?? 0.001, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-7);
  }
}
