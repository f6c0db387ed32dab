//go:build !linux || paraider_portable

package treewatch

// Supported: this system has a watch.
const Supported = false

// Watch is never made here: Start says ErrUnsupported.
type Watch struct{}

// Start says ErrUnsupported: FSEvents needs cgo, and kqueue a descriptor
// per file. The caller looks at the whole tree.
func Start(root string, skip Skip) (*Watch, error) { return nil, ErrUnsupported }

// Stop is never reached: there is no Watch.
func (w *Watch) Stop() ([]string, bool) { return nil, false }

// Also is never reached: there is no Watch.
func (w *Watch) Also(dirs []string, skip Skip) error { return ErrUnsupported }

// Stream says ErrUnsupported, as Start.
func Stream(root string, skip Skip, ev Events) (*Watch, error) { return nil, ErrUnsupported }

// Mark is never reached: there is no Watch.
func (w *Watch) Mark(dir string) error { return ErrUnsupported }

// Attach is never reached: there is no Watch.
func (w *Watch) Attach(dir, rel string) error { return ErrUnsupported }
