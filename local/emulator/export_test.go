package emulator

// Started is how many emulators the pool runs now.
func (p *Pool) Started() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}
