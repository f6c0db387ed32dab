//go:build unix && !linux && !darwin

package proc

func get(int) (Info, error)      { return Info{}, ErrUnsupported }
func all() ([]Info, error)       { return nil, ErrUnsupported }
func args(int) ([]string, error) { return nil, ErrUnsupported }
func cwd(int) (string, error)    { return "", ErrUnsupported }
func exeOf(int) (string, error)  { return "", ErrUnsupported }
