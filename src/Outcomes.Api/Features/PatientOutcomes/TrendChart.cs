using System.Text;
using Outcomes.Core.Outcomes;
using ScottPlot;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>
/// Draws the weekly pain series with ScottPlot: sessions as vertical lines, and per cycle its
/// baseline and the 30% and 50% response lines (70% and 50% of baseline).
/// </summary>
public static class TrendChart
{
    public enum Format
    {
        Png,
        Svg,
    }

    public const int Width = 900;
    public const int Height = 420;

    public static (byte[] Bytes, string ContentType) Render(TrendResponse trend, IReadOnlyList<CycleOutcome> cycles, Format format)
    {
        var plot = new Plot();
        plot.Title("Weekly pain (0–10 NRS, 7-day average)");
        plot.YLabel("Pain");
        plot.Axes.DateTimeTicksBottom();

        // One line per run of consecutive weeks: a missing week shows as a gap, never as a line across it.
        var runs = new List<List<SeriesPoint>>();
        foreach (var point in trend.Series)
        {
            if (runs.Count == 0 || point.Day.DayNumber - runs[^1][^1].Day.DayNumber > 7)
            {
                runs.Add([]);
            }
            runs[^1].Add(point);
        }
        foreach (var run in runs)
        {
            var scatter = plot.Add.Scatter(
                run.Select(p => X(p.Day.AddDays(3))).ToArray(),
                run.Select(p => (double)p.Value).ToArray());
            scatter.Color = Colors.Navy;
            scatter.MarkerSize = 4;
            if (run == runs[0])
            {
                scatter.LegendText = "Weekly mean";
            }
        }

        var first = true;
        foreach (var session in trend.Sessions)
        {
            var line = plot.Add.VerticalLine(X(session.Date));
            line.Color = Colors.Gray;
            line.LinePattern = LinePattern.Dotted;
            if (first)
            {
                line.LegendText = "Treatment session";
                first = false;
            }
        }

        var end = trend.Series.Count > 0 ? trend.Series[^1].Day.AddDays(7) : DateOnly.FromDateTime(DateTime.UtcNow);
        var labelled = false;
        foreach (var cycle in cycles)
        {
            if (cycle.Baseline?.Value is not { } baseline)
            {
                continue;
            }
            var from = X(cycle.Session);
            var to = X(cycle.End ?? (end > cycle.Session ? end : cycle.Session.AddDays(7)));
            Segment(plot, from, to, (double)baseline, Colors.DarkRed, LinePattern.Solid, labelled ? null : "Baseline");
            Segment(plot, from, to, (double)baseline * 0.7, Colors.DarkOrange, LinePattern.Dashed, labelled ? null : "30% relief");
            Segment(plot, from, to, (double)baseline * 0.5, Colors.Green, LinePattern.Dashed, labelled ? null : "50% relief");
            labelled = true;
        }

        plot.Axes.SetLimitsY(0, 10.5);
        plot.ShowLegend(Alignment.UpperRight);
        return format == Format.Png
            ? (plot.GetImageBytes(Width, Height, ImageFormat.Png), "image/png")
            : (Encoding.UTF8.GetBytes(plot.GetSvgXml(Width, Height)), "image/svg+xml");
    }

    private static void Segment(Plot plot, double x1, double x2, double y, Color color, LinePattern pattern, string? legend)
    {
        var line = plot.Add.Line(x1, y, x2, y);
        line.Color = color;
        line.LinePattern = pattern;
        line.LineWidth = 1.5f;
        if (legend is not null)
        {
            line.LegendText = legend;
        }
    }

    private static double X(DateOnly day) => day.ToDateTime(TimeOnly.MinValue).ToOADate();
}
