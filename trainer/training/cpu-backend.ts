import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

// tfjs's cpu backend prints, at its first use in Node, a banner advising to install tfjs-node.
// Here cpu is chosen on purpose (the reference the kernel tests compare with, `--backend cpu`) and
// the trainer already takes tfjs-node where it loads, so the advice is noise in every log. Each
// instance sets its `firstUse` flag in its constructor: an accessor on the prototype keeps it
// false for every instance the engine creates.
Object.defineProperty(MathBackendCPU.prototype, 'firstUse', { get: () => false, set: () => {}, configurable: true });
