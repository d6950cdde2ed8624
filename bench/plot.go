package main

import (
	"fmt"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// percentileX maps a percentile to the x axis of a latency curve: x = n
// at the percentile with n nines (90% → 1, 99% → 2, 99.9% → 3), the
// usual HdrHistogram view, so the tail gets as much room as the median.
func percentileX(p float64) float64 {
	if p >= 100 {
		return math.Inf(1)
	}
	return -math.Log10(1 - p/100)
}

// curveXYs turns a percentile curve into plot points; the max (100%) goes
// a little right of the last finite point.
func curveXYs(c []CurvePoint) plotter.XYs {
	var xys plotter.XYs
	lastX := 0.0
	for _, pt := range c {
		x := percentileX(pt.Percentile)
		if math.IsInf(x, 1) {
			x = lastX + 0.25
		}
		lastX = x
		xys = append(xys, plotter.XY{X: x, Y: math.Max(pt.Ms, 0.001)})
	}
	return xys
}

var percentileTicks = plot.ConstantTicks{
	{Value: 0, Label: "0%"}, {Value: math.Log10(2), Label: "50%"}, {Value: 1, Label: "90%"}, {Value: 2, Label: "99%"},
	{Value: 3, Label: "99.9%"}, {Value: 4, Label: "99.99%"}, {Value: 5, Label: "99.999%"}, {Value: 6, Label: "99.9999%"},
}

// latencyPlot draws one or more percentile curves into file.
func latencyPlot(file, title string, names []string, curves [][]CurvePoint) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.X.Tick.Marker = percentileTicks
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	var args []any
	for i, c := range curves {
		if len(c) == 0 {
			continue
		}
		args = append(args, names[i], curveXYs(c))
	}
	if len(args) == 0 {
		return nil
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", file, err)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	if err := p.Save(9*vg.Inch, 5*vg.Inch, file); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	return nil
}

// timelinePlot draws acknowledged publishes/s and deliveries/s per second.
func timelinePlot(file, title string, tl []TimelinePoint, deliveries bool) error {
	if len(tl) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "per second"
	p.Add(plotter.NewGrid())
	var pub, del plotter.XYs
	top := 0.0
	for _, pt := range tl {
		pub = append(pub, plotter.XY{X: pt.Second, Y: pt.Published})
		del = append(del, plotter.XY{X: pt.Second, Y: pt.Delivered})
		top = math.Max(top, pt.Published)
		if deliveries {
			top = math.Max(top, pt.Delivered)
		}
	}
	args := []any{"acknowledged publishes/s", pub}
	if deliveries {
		args = append(args, "deliveries/s", del)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", file, err)
	}
	p.Y.Min = 0
	p.Y.Max = math.Max(1, top*1.3) // room for the legend above the lines
	p.Legend.Top = true
	if err := p.Save(9*vg.Inch, 4*vg.Inch, file); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	return nil
}

// writePlots draws every plot of a run into dir and returns the file
// names written.
func writePlots(dir string, results []Result) ([]string, error) {
	var files []string
	add := func(name string, err error) error {
		if err != nil {
			return err
		}
		files = append(files, name)
		return nil
	}
	var fanNames []string
	var fanCurves [][]CurvePoint
	var thrNames []string
	var thrCurves [][]CurvePoint
	for _, r := range results {
		switch {
		case r.Delivery != nil && len(r.Delivery.Curve) > 0:
			name := "latency-" + r.Name + ".png"
			if err := add(name, latencyPlot(filepath.Join(dir, name), r.Title+": publish sent → received", []string{r.Name}, [][]CurvePoint{r.Delivery.Curve})); err != nil {
				return files, err
			}
			fanNames = append(fanNames, r.Name)
			fanCurves = append(fanCurves, r.Delivery.Curve)
		case r.Kind == "throughput" && r.PublishLatency != nil && len(r.PublishLatency.Curve) > 0:
			thrNames = append(thrNames, r.Name)
			thrCurves = append(thrCurves, r.PublishLatency.Curve)
		}
		if len(r.Timeline) > 0 && r.Kind != "connections" {
			name := "throughput-" + r.Name + ".png"
			if err := add(name, timelinePlot(filepath.Join(dir, name), r.Title, r.Timeline, r.Kind != "throughput")); err != nil {
				return files, err
			}
		}
	}
	if len(fanCurves) > 1 {
		if err := add("latency-all-fanout.png", latencyPlot(filepath.Join(dir, "latency-all-fanout.png"), "delivery latency, every fan-out scenario", fanNames, fanCurves)); err != nil {
			return files, err
		}
	}
	if len(thrCurves) > 0 {
		if err := add("latency-publish.png", latencyPlot(filepath.Join(dir, "latency-publish.png"), "publish latency (request → 201), throughput scenarios", thrNames, thrCurves)); err != nil {
			return files, err
		}
	}
	return files, nil
}
