export { createAgeGenderNet } from './net.js';
export type { AgeGender, AgeGenderNet, AgeGenderOptions } from './net.js';
