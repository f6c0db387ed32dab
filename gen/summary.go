package gen

import (
	"fmt"
	"strings"

	"github.com/paraider/paraider/internal/human"
)

// Changed says which tasks' specs a gen wrote or removed: "no task
// changed" when none.
func (s *Summary) Changed() string {
	var parts []string
	if len(s.SpecsWritten) > 0 {
		parts = append(parts, fmt.Sprintf("%s new or changed (%s)", human.Count(len(s.SpecsWritten), "task"), short(s.SpecsWritten)))
	}
	if len(s.SpecsRemoved) > 0 {
		parts = append(parts, fmt.Sprintf("%d removed (%s)", len(s.SpecsRemoved), short(s.SpecsRemoved)))
	}
	if len(parts) == 0 {
		return "no task changed"
	}
	return strings.Join(parts, ", ")
}

func short(ids []string) string {
	if len(ids) > 6 {
		return strings.Join(ids[:6], ", ") + fmt.Sprintf(" and %d more", len(ids)-6)
	}
	return strings.Join(ids, ", ")
}
