using System.Text;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;
using ScottPlot;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>
/// Draws one measure's series with ScottPlot (pain as weekly means, other measures as single
/// values): sessions as vertical lines, and per cycle its baseline and the 30% and 50% improvement
/// lines, below the baseline where lower is better (70% and 50% of it), above where higher is.
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
        var unit = trend.Unit is { Length: > 0 } u ? $" ({u})" : "";
        plot.Title(trend.Weekly ? $"{trend.Name}{unit}, weekly mean" : $"{trend.Name}{unit}");
        plot.YLabel(trend.Unit is { Length: > 0 } yUnit ? yUnit : trend.Name);
        plot.Axes.DateTimeTicksBottom();

        // Weekly means: one line per run of consecutive weeks, so a missing week shows as a gap,
        // never as a line across it. Single values: one line through them.
        var runs = new List<List<SeriesPoint>>();
        foreach (var point in trend.Series)
        {
            if (runs.Count == 0 || (trend.Weekly && point.Day.DayNumber - runs[^1][^1].Day.DayNumber > 7))
            {
                runs.Add([]);
            }
            runs[^1].Add(point);
        }
        foreach (var run in runs)
        {
            var scatter = plot.Add.Scatter(
                run.Select(p => X(trend.Weekly ? p.Day.AddDays(3) : p.Day)).ToArray(),
                run.Select(p => (double)p.Value).ToArray());
            scatter.Color = Colors.Navy;
            scatter.MarkerSize = 4;
            if (run == runs[0])
            {
                scatter.LegendText = trend.Weekly ? "Weekly mean" : "Value";
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

        var lowerIsBetter = trend.Direction == Direction.HigherIsWorse;
        var (at30, at50) = lowerIsBetter ? (0.7, 0.5) : (1.3, 1.5);
        var word = lowerIsBetter ? "relief" : "improvement";
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
            Segment(plot, from, to, (double)baseline * at30, Colors.DarkOrange, LinePattern.Dashed, labelled ? null : $"30% {word}");
            Segment(plot, from, to, (double)baseline * at50, Colors.Green, LinePattern.Dashed, labelled ? null : $"50% {word}");
            labelled = true;
        }

        if (trend.Measure.StartsWith("pain_nrs", StringComparison.Ordinal))
        {
            plot.Axes.SetLimitsY(0, 10.5);
        }
        else
        {
            plot.Axes.AutoScale();
            var limits = plot.Axes.GetLimits();
            plot.Axes.SetLimitsY(Math.Min(0, limits.Bottom), limits.Top * 1.05);
        }
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
