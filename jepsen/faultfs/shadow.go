package faultfs

import (
	"sort"
)

// extent is a range of a file whose bytes on the (simulated) disk differ
// from the backing file: data is what the disk holds there.
type extent struct {
	off  int64
	data []byte
	// lost marks bytes an fsync failed to write: a later successful fsync
	// does not write them; only writing them again does.
	lost bool
}

func (e extent) end() int64 { return e.off + int64(len(e.data)) }

// shadow is what the disk holds of one file, as a difference from the
// backing file: its durable size and the extents that differ.
type shadow struct {
	durableSize int64
	extents     []extent // sorted by off, never overlapping
}

// split cuts the extent containing at (strictly inside) in two.
func (s *shadow) split(at int64) {
	for i, e := range s.extents {
		if e.off < at && at < e.end() {
			k := at - e.off
			left := extent{off: e.off, data: e.data[:k:k], lost: e.lost}
			right := extent{off: at, data: e.data[k:], lost: e.lost}
			s.extents = append(s.extents[:i], append([]extent{left, right}, s.extents[i+1:]...)...)
			return
		}
	}
}

// touch is called before the backing bytes [off, end) change: within the
// durable size, the disk's bytes not yet shadowed are saved with read (which
// reads the backing file), and lost extents in the range become pending
// again (they are being rewritten, so the next successful fsync writes
// them).
func (s *shadow) touch(off, end int64, read func(off int64, n int) ([]byte, error)) error {
	end = min(end, s.durableSize)
	if off >= end {
		return nil
	}
	s.split(off)
	s.split(end)
	cur := off
	var add []extent
	for i := range s.extents {
		e := &s.extents[i]
		if e.end() <= off || e.off >= end {
			continue
		}
		e.lost = false
		if e.off > cur {
			b, err := read(cur, int(e.off-cur))
			if err != nil {
				return err
			}
			add = append(add, extent{off: cur, data: b})
		}
		cur = e.end()
	}
	if cur < end {
		b, err := read(cur, int(end-cur))
		if err != nil {
			return err
		}
		add = append(add, extent{off: cur, data: b})
	}
	if len(add) > 0 {
		s.extents = append(s.extents, add...)
		sort.Slice(s.extents, func(i, j int) bool { return s.extents[i].off < s.extents[j].off })
	}
	return nil
}

// synced records a successful fsync of a file now size bytes long: every
// pending extent is on disk, lost ones stay lost.
func (s *shadow) synced(size int64) {
	kept := s.extents[:0]
	for _, e := range s.extents {
		if e.lost {
			kept = append(kept, e)
		}
	}
	s.extents = kept
	s.durableSize = size
}

// syncFailed records a failed fsync of a file now size bytes long: the
// pending extents are lost, and so is any growth of the file (the size
// reaches the disk, the data does not: it reads as zeros).
func (s *shadow) syncFailed(size int64) {
	for i := range s.extents {
		s.extents[i].lost = true
	}
	if size > s.durableSize {
		s.extents = append(s.extents, extent{off: s.durableSize, data: make([]byte, size-s.durableSize), lost: true})
		s.durableSize = size
	}
}

// pendingBytes counts the bytes a power cut would change.
func (s *shadow) pendingBytes(size int64) int64 {
	var n int64
	for _, e := range s.extents {
		n += int64(len(e.data))
	}
	if size > s.durableSize {
		n += size - s.durableSize
	}
	return n
}
