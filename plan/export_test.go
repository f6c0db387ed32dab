package plan

// SettingWork is each setting's name and whether it changes a task's
// work, for the tests outside the package.
func SettingWork() map[string]bool {
	m := map[string]bool{}
	for _, f := range settingFields {
		m[f.name] = f.work
	}
	return m
}
