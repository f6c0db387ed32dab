package proc

// paraider runs on Linux and macOS. On Windows, run it under WSL (Windows
// Subsystem for Linux), where it is the Linux build: `wsl --install`, then
// install Go, Ninja and paraider inside it as the README says. This line
// makes a Windows build stop here, saying so, rather than somewhere deep.
var _ = paraider_does_not_run_on_Windows__run_it_under_WSL
