package rooms

// Broker carries committed events between the processes that serve the
// same rooms. The engine calls Publish on the loop once an event has
// committed; the broker must hand every event, this process's own
// included, to the deliver function Start gave it, on the loop (from
// another goroutine, through Loop.AddCallback), in the order of the
// events' ids within each room. The hub ignores an event it already has
// (an id not above its last), so a broker may deliver at least once.
//
// LocalBroker, the default, is one process: Publish delivers at once.
// rooms/doc.go says how a NATS broker plugs in.
type Broker interface {
	Start(deliver func(*Event))
	Publish(ev *Event)
}

// LocalBroker delivers each event to this process's hubs, synchronously.
type LocalBroker struct{ deliver func(*Event) }

func (b *LocalBroker) Start(deliver func(*Event)) { b.deliver = deliver }

func (b *LocalBroker) Publish(ev *Event) { b.deliver(ev) }
