export { engine, type TestEngine } from './helpers.js'
