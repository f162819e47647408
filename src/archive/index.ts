export { applyLayer, cleanMemberName, type ApplyOptions, type ApplyResult } from './apply.js'
export { tarDirectory } from './export.js'
export { decompress, detectCompression, type Compression } from './compression.js'
export { TarReader, encodeHeader, newHeader, padding, END_OF_ARCHIVE, type TarHeader, type EntryType } from './tar.js'
