// Dev scripts get the same rules as tests: see test/eslint.config.mjs.
export { default } from '../test/eslint.config.mjs';
