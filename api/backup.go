package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pushflo/pushflo/raftnode"
	"github.com/valyala/fasthttp"
)

// Backuper is implemented by nodes that can stream a consistent backup
// (*raftnode.Node does). A Node without it answers the backup route with
// 404.
type Backuper interface {
	OpenBackup(ctx context.Context) (*raftnode.Backup, error)
}

// backupWriteIdle bounds how long one write of a backup may wait for the
// client: a backup can take minutes in all, but a reader that stops for
// this long loses the stream, and the snapshot it holds open is released.
const backupWriteIdle = 30 * time.Second

// handleBackup: GET /api/v1/cluster/backup [ext], mgmt key. Streams a
// consistent backup of the cluster's state (a tar: pushflo-backup.json,
// then the Raft snapshot) holding every write acknowledged before the
// request; `pushflo restore` turns it into a new node. The snapshot is
// taken before the answer starts, so errors (no leader for the read
// barrier) are ordinary error replies; a stream that breaks later ends
// short, and restore refuses it.
func (s *Server) handleBackup(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleMgmt); err != nil {
		s.writeError(ctx, err)
		return
	}
	b, ok := s.node.(Backuper)
	if !ok {
		s.writeError(ctx, errorf(CodeNotFound, "this node cannot take backups"))
		return
	}
	bctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	bk, err := b.OpenBackup(bctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	info := bk.Info
	ctx.Response.Header.SetContentType("application/x-tar")
	ctx.Response.Header.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pushflo-%s-%d.tar"`, info.CreatedAt.Format("20060102T150405Z"), info.Index))
	ctx.Response.Header.Set("X-Pushflo-Backup-Index", strconv.FormatUint(info.Index, 10))
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if ctx.IsHead() {
		bk.Close()
		return
	}
	conn := ctx.Conn()
	logger := s.logger
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer bk.Close()
		dw := &deadlineWriter{w: w, conn: conn}
		err := bk.Write(dw)
		n := dw.n
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			logger.Warn("backup stream ended early", "index", info.Index, "bytes", n, "err", err)
			return
		}
		logger.Info("backup streamed", "index", info.Index, "bytes", n)
	})
}

// deadlineWriter extends the connection's write deadline before each
// write, so a backup of any size streams as long as the client reads.
// It counts the bytes written, for the log.
type deadlineWriter struct {
	w    *bufio.Writer
	conn net.Conn
	n    int64
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.conn.SetWriteDeadline(time.Now().Add(backupWriteIdle))
	n, err := d.w.Write(p)
	d.n += int64(n)
	return n, err
}
