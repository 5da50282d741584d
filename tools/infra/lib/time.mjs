// @ts-check
// Timing of waits and the durations printed with each step.

/** @param {number} ms @returns {Promise<void>} */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => Date.now();
/** Time since t0 for humans, e.g. `1.3s`. @param {number} t0 */
export const secs = (t0) => `${((now() - t0) / 1000).toFixed(1)}s`;
