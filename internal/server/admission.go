package server

import (
	"context"
	"sync"
	"time"
)

// admission bounds the coding jobs in progress: at most perTenant of one
// tenant and total of all at once, and of those at most large of large
// notes. Coding a note takes CPU and memory in proportion to it, and
// without a bound a few large notes take the machine from every other
// client.
type admission struct {
	total     chan struct{}
	large     chan struct{}
	perTenant int
	// wait is how long a job waits for a slot before it is refused.
	wait time.Duration

	mu      sync.Mutex
	tenants map[string]chan struct{}
}

func newAdmission(total, perTenant, large int, wait time.Duration) *admission {
	return &admission{total: make(chan struct{}, total), large: make(chan struct{}, large), perTenant: perTenant, wait: wait,
		tenants: map[string]chan struct{}{}}
}

// tenant returns the slots of tenant. The map holds one small channel a
// tenant that ever coded: tenants are few, named by the store's tokens.
func (a *admission) tenant(name string) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.tenants[name]
	if !ok {
		c = make(chan struct{}, a.perTenant)
		a.tenants[name] = c
	}
	return c
}

// acquire takes a slot of tenant's and one of the total, and for a large
// note one of the large notes', waiting up to a.wait for them all, and
// returns the function that gives them back; ok is false when they did
// not come free in time. The error is ctx's when it ends first.
func (a *admission) acquire(ctx context.Context, tenant string, large bool) (release func(), ok bool, err error) {
	t := time.NewTimer(a.wait)
	defer t.Stop()
	sems := []chan struct{}{a.tenant(tenant), a.total}
	if large {
		// First, so that a large note waiting holds no slot a small
		// one could use.
		sems = append([]chan struct{}{a.large}, sems...)
	}
	var held []chan struct{}
	giveBack := func() {
		for _, c := range held {
			<-c
		}
	}
	for _, c := range sems {
		select {
		case c <- struct{}{}:
			held = append(held, c)
		case <-t.C:
			giveBack()
			return nil, false, nil
		case <-ctx.Done():
			giveBack()
			return nil, false, ctx.Err()
		}
	}
	return giveBack, true, nil
}

// busy returns the jobs in progress: of tenant, in total, and of large
// notes.
func (a *admission) busy(tenant string) (int, int, int) {
	return len(a.tenant(tenant)), len(a.total), len(a.large)
}
