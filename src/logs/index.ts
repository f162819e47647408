export { readLogs, parseRecords, parseTimeNano, formatTimeNano, type LogEntry, type ReadLogsOptions } from './k8s-file.js'
