namespace Outcomes.Core.Tests.Cohorts;

/// <summary>
/// An attacker who holds every answer the cohort endpoints give for one set of filters (the outcomes,
/// each breakdown under each responder rule, the quarters, the duration) and solves for each withheld
/// count from the shown ones: by the sums that tie a total to its parts and a cohort to its groups, the
/// figures known to share an n, and what every count must be (at least 0, a listed group at least 1,
/// k at most n). A withheld count is recovered when these pin it to one value; the attack succeeds when
/// what it recovers gives a small cell: a count of 1 to threshold, or a rate's k or n − k of 1 to threshold
/// with k and n both known. (Recovering a withheld figure that is no small cell, such as the n of a withheld
/// rate that equals the cohort's shown total, discloses nothing.) Counts are of cycles; the first-cycle
/// filter sets, where a cycle is a patient, make the test exact in patients.
/// </summary>
public sealed class Attacker
{
    private const double Unbounded = 1e9;
    private readonly Dictionary<string, int> _known = [];
    private readonly Dictionary<string, (double Lo, double Hi)> _unknown = [];
    private readonly List<(Dictionary<string, int> Terms, int Right)> _equations = [];
    private readonly List<(string Small, string Large)> _atMost = [];

    public int Withheld => _unknown.Count;

    /// <summary>Rates as (k, n) names, to check n − k once both are known.</summary>
    private readonly List<(string K, string N)> _rates = [];

    public void Rate(string k, string n) => _rates.Add((k, n));

    /// <summary>The small cells the answers give away: recovered counts of 1 to threshold, and small k or n − k of a rate with a withheld part.</summary>
    public List<string> SmallCellsDisclosed(int threshold)
    {
        var recovered = Recovered();
        bool Small(int v) => v >= 1 && v <= threshold;
        int? Value(string name) => _known.TryGetValue(name, out var v) ? v : recovered.TryGetValue(name, out var r) ? r : null;
        var disclosed = recovered.Where(r => Small(r.Value)).Select(r => $"{r.Key} = {r.Value}").ToList();
        foreach (var (k, n) in _rates)
        {
            if ((_unknown.ContainsKey(k) || _unknown.ContainsKey(n)) && Value(k) is { } kv && Value(n) is { } nv && (Small(kv) || Small(nv - kv)))
            {
                disclosed.Add($"{k} = {kv} of {n} = {nv}");
            }
        }
        return disclosed;
    }

    public void Cell(string name, int? value, int lower = 0)
    {
        if (_known.ContainsKey(name) || _unknown.ContainsKey(name))
        {
            return;
        }
        if (value is { } v)
        {
            _known[name] = v;
        }
        else
        {
            _unknown[name] = (lower, Unbounded);
        }
    }

    /// <summary>total = Σ parts.</summary>
    public void Sum(string total, IEnumerable<string> parts)
    {
        var terms = new Dictionary<string, int> { [total] = -1 };
        foreach (var part in parts)
        {
            terms[part] = terms.GetValueOrDefault(part) + 1;
        }
        _equations.Add((terms, 0));
    }

    public void Same(string a, string b) => _equations.Add((new Dictionary<string, int> { [a] = 1, [b] = -1 }, 0));

    public void AtMost(string small, string large) => _atMost.Add((small, large));

    /// <summary>The withheld counts the answers pin to one value, with that value.</summary>
    public Dictionary<string, int> Recovered()
    {
        var bounds = new Dictionary<string, (double Lo, double Hi)>(_unknown);
        (double Lo, double Hi) Of(string name) => _known.TryGetValue(name, out var v) ? (v, v) : bounds[name];
        for (var round = 0; round < 200; round++)
        {
            var changed = false;
            foreach (var (terms, right) in _equations)
            {
                foreach (var (name, c) in terms)
                {
                    if (_known.ContainsKey(name))
                    {
                        continue;
                    }
                    // c·x = right − Σ others
                    double lo = right, hi = right;
                    foreach (var (other, d) in terms)
                    {
                        if (other == name)
                        {
                            continue;
                        }
                        var (olo, ohi) = Of(other);
                        lo -= d > 0 ? d * ohi : d * olo;
                        hi -= d > 0 ? d * olo : d * ohi;
                    }
                    var (xlo, xhi) = c > 0 ? (lo / c, hi / c) : (hi / c, lo / c);
                    changed |= Narrow(bounds, name, Math.Ceiling(xlo - 1e-9), Math.Floor(xhi + 1e-9));
                }
            }
            foreach (var (small, large) in _atMost)
            {
                if (!_known.ContainsKey(small))
                {
                    changed |= Narrow(bounds, small, double.NegativeInfinity, Of(large).Hi);
                }
                if (!_known.ContainsKey(large))
                {
                    changed |= Narrow(bounds, large, Of(small).Lo, double.PositiveInfinity);
                }
            }
            if (!changed)
            {
                break;
            }
        }
        var recovered = bounds.Where(b => b.Value.Lo == b.Value.Hi).ToDictionary(b => b.Key, b => (int)b.Value.Lo);
        foreach (var (name, value) in Eliminate())
        {
            recovered[name] = value;
        }
        return recovered;
    }

    private static bool Narrow(Dictionary<string, (double Lo, double Hi)> bounds, string name, double lo, double hi)
    {
        var (l, h) = bounds[name];
        var (nl, nh) = (Math.Max(l, lo), Math.Min(h, hi));
        if (nl == l && nh == h)
        {
            return false;
        }
        bounds[name] = (nl, nh);
        return true;
    }

    /// <summary>Gauss–Jordan elimination on the equations alone: an unknown left alone in a row is determined.</summary>
    private IEnumerable<(string Name, int Value)> Eliminate()
    {
        var columns = _unknown.Keys.ToList();
        var index = columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var rows = _equations.Select(e =>
        {
            var row = new double[columns.Count + 1];
            var right = (double)e.Right;
            foreach (var (name, c) in e.Terms)
            {
                if (_known.TryGetValue(name, out var v))
                {
                    right -= c * v;
                }
                else
                {
                    row[index[name]] += c;
                }
            }
            row[^1] = right;
            return row;
        }).ToList();
        var pivotRow = 0;
        for (var col = 0; col < columns.Count && pivotRow < rows.Count; col++)
        {
            var pivot = rows.FindIndex(pivotRow, r => Math.Abs(r[col]) > 1e-9);
            if (pivot < 0)
            {
                continue;
            }
            (rows[pivotRow], rows[pivot]) = (rows[pivot], rows[pivotRow]);
            var p = rows[pivotRow][col];
            for (var j = 0; j <= columns.Count; j++)
            {
                rows[pivotRow][j] /= p;
            }
            for (var r = 0; r < rows.Count; r++)
            {
                if (r != pivotRow && Math.Abs(rows[r][col]) > 1e-9)
                {
                    var f = rows[r][col];
                    for (var j = 0; j <= columns.Count; j++)
                    {
                        rows[r][j] -= f * rows[pivotRow][j];
                    }
                }
            }
            pivotRow++;
        }
        foreach (var row in rows)
        {
            var nonZero = Enumerable.Range(0, columns.Count).Where(j => Math.Abs(row[j]) > 1e-9).ToList();
            if (nonZero.Count == 1)
            {
                yield return (columns[nonZero[0]], (int)Math.Round(row[^1] / row[nonZero[0]]));
            }
        }
    }
}
