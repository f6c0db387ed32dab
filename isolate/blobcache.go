package isolate

// blobCachePath keeps the blob id of each changed or untracked file Dirty
// hashed, with the file's metadata when it was hashed (internal/sumcache).
// Dirty runs before and after every attempt, and hashing every untracked
// file each time cost about 60 µs a file (0.6 s a look at 10,000 untracked
// files), where git status itself takes a few milliseconds.
const blobCachePath = "dirty-blobs"

// blobIDLen is the length of a blob id in hex.
const blobIDLen = 40
