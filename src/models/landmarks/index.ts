export { createLandmarksNet } from './net.js';
export type { LandmarksNet, LandmarksOptions } from './net.js';
export { LANDMARK_COUNT } from './postprocess.js';
