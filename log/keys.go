package log

import "encoding/binary"

const (
	prefixMessage = 'm'
	prefixChannel = 'c'
	prefixIdem    = 'i'
	prefixTime    = 't'
	prefixState   = 's'
	prefixRecord  = 'r'
)

var (
	keyApplied = []byte("sapplied")
	keyClock   = []byte("sclock")
)

// messagePrefix returns 'm' channel 0x00.
func messagePrefix(channel string) []byte {
	k := make([]byte, 0, len(channel)+10)
	k = append(k, prefixMessage)
	k = append(k, channel...)
	return append(k, 0)
}

// messageKey returns 'm' channel 0x00 pos.
func messageKey(channel string, pos uint64) []byte {
	return binary.BigEndian.AppendUint64(messagePrefix(channel), pos)
}

// positionOf returns the position at the end of a message key.
func positionOf(key []byte) uint64 {
	return binary.BigEndian.Uint64(key[len(key)-8:])
}

// recordKey returns 'r' name: a record of the layer above (Batch.SetRecord).
func recordKey(name string) []byte {
	return append([]byte{prefixRecord}, name...)
}

func channelKey(channel string) []byte {
	return append([]byte{prefixChannel}, channel...)
}

func idemKey(channel, key string) []byte {
	k := make([]byte, 0, len(channel)+len(key)+2)
	k = append(k, prefixIdem)
	k = append(k, channel...)
	k = append(k, 0)
	return append(k, key...)
}

func timeKey(ms int64, pos uint64) []byte {
	k := make([]byte, 0, 17)
	k = append(k, prefixTime)
	k = binary.BigEndian.AppendUint64(k, uint64(ms))
	return binary.BigEndian.AppendUint64(k, pos)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
