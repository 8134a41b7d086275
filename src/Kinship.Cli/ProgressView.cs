using System.Globalization;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// Shows a run's progress while it executes: per model and scenario, episodes per second, errors, tokens, what the
/// model calls cost so far and an ETA. A live Spectre.Console display on a terminal; otherwise a plain line every few
/// seconds. With a cost meter the ETA follows model requests, not finished episodes: episodes that advance turn by turn
/// together finish together, so an ETA from finished episodes alone would be far too long until the very end.
/// </summary>
internal sealed class ProgressView : IRunProgress
{
    private const int MaxRows = 30;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (int Done, int Total)> _groups = new(StringComparer.Ordinal);
    private readonly int _total;
    private readonly int _doneAtStart;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _started;
    private readonly CostMeter? _meter;
    private int _done;
    private int _errors;
    private long _tokens;
    private int _finishedHere;
    private long _turnsHere;

    public ProgressView(IReadOnlyList<CellCounts> cells, TimeProvider time, CostMeter? meter = null)
    {
        _meter = meter;
        foreach (var c in cells)
        {
            var key = Group(c.Model, c.Scenario);
            var (done, total) = _groups.GetValueOrDefault(key);
            _groups[key] = (done + c.Finished, total + c.Planned);
        }
        _total = cells.Sum(c => c.Planned);
        _done = _doneAtStart = cells.Sum(c => c.Finished);
        _errors = cells.Sum(c => c.Error);
        _time = time;
        _started = time.GetUtcNow();
    }

    private static string Group(string model, string scenario) => $"{model} {scenario}";

    public void Committed(IReadOnlyList<EpisodeResult> episodes)
    {
        lock (_lock)
        {
            foreach (var e in episodes)
            {
                var key = Group(e.Spec.Model, e.Spec.Scenario);
                var (done, total) = _groups.GetValueOrDefault(key);
                _groups[key] = (done + 1, total);
                if (e.Status == EpisodeStatus.Error)
                    _errors++;
                _tokens += e.Transcript.Usage.Total;
                _turnsHere += e.Transcript.Turns;
            }
            _done += episodes.Count;
            _finishedHere += episodes.Count;
        }
    }

    public void GaveUp(int count)
    {
        lock (_lock)
        {
            _done += count;
            _errors += count;
        }
    }

    /// <summary>One line: done of total, rate, errors, tokens, cost and ETA.</summary>
    public string Summary()
    {
        lock (_lock)
        {
            var (rate, eta) = Rate();
            var percent = _total == 0 ? 100 : 100.0 * _done / _total;
            return string.Create(
                CultureInfo.InvariantCulture,
                $"{_done:N0}/{_total:N0} episodes ({percent:0.0} %), {rate:N0} ep/s, {_errors:N0} errors, {_tokens:N0} tokens, {Cost()}, ETA {(eta is { } t ? Format(t) : "–")}"
            );
        }
    }

    /// <summary>The live display's first row, short enough to leave the bar room, with the run's ETA (the columns' own estimate follows finished episodes only).</summary>
    private string Headline()
    {
        lock (_lock)
        {
            var (rate, eta) = Rate();
            return string.Create(
                CultureInfo.InvariantCulture,
                $"{_done:N0}/{_total:N0}, {rate:N0} ep/s, {_errors:N0} err, {_tokens:N0} tok, {Cost()}, ETA {(eta is { } t ? Format(t) : "–")}"
            );
        }
    }

    private string Cost() =>
        _meter is null ? "cost n/a"
        : _meter.UnpricedCalls > 0
            ? $"{ModelConfig.Format(_meter.Spent)} USD + {_meter.UnpricedCalls:N0} unpriced calls{_meter.CacheSummary()}"
        : $"{ModelConfig.Format(_meter.Spent)} USD{_meter.CacheSummary()}";

    // Counts only this process's episodes and requests: what finished before it started says nothing about its speed.
    private (double Rate, TimeSpan? Eta) Rate()
    {
        var seconds = (_time.GetUtcNow() - _started).TotalSeconds;
        var rate = seconds > 0 ? (_done - _doneAtStart) / seconds : 0;
        var calls = _meter?.Calls ?? 0;
        if (calls == 0 || seconds <= 0)
            return (rate, rate > 0 ? TimeSpan.FromSeconds((_total - _done) / rate) : null);
        // Requests still to send: the episodes left at the requests a finished episode took, less those the episodes
        // in flight have sent already; at the request rate so far. Unknown until an episode has finished.
        if (_finishedHere == 0)
            return (rate, null);
        var perEpisode = (double)_turnsHere / _finishedHere;
        var remaining = Math.Max(0, (_total - _done) * perEpisode - Math.Max(0, calls - _turnsHere));
        return (rate, TimeSpan.FromSeconds(remaining / (calls / seconds)));
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
        : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s"
        : $"{t.TotalSeconds:0}s";

    /// <summary>Shows progress until <paramref name="work"/> ends, and returns its result.</summary>
    public async Task<T> ShowAsync<T>(IAnsiConsole console, Func<Task<T>> work)
    {
        if (!console.Profile.Capabilities.Interactive || !console.Profile.Capabilities.Ansi)
        {
            var task = work();
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5), _time, CancellationToken.None)).ConfigureAwait(false);
                if (!task.IsCompleted)
                    console.WriteLine("progress: " + Summary());
            }
            return await task.ConfigureAwait(false);
        }

        T result = default!;
        await console
            .Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn()
            )
            .StartAsync(async ctx =>
            {
                var all = ctx.AddTask("all", maxValue: Math.Max(1, _total));
                Dictionary<string, ProgressTask> rows;
                lock (_lock)
                    rows = _groups
                        .Keys.Order(StringComparer.Ordinal)
                        .Take(MaxRows)
                        .ToDictionary(
                            k => k,
                            k => ctx.AddTask(TerminalText.Markup(k), maxValue: Math.Max(1, _groups[k].Total)),
                            StringComparer.Ordinal
                        );
                var task = work();
                while (true)
                {
                    lock (_lock)
                    {
                        all.Value = _done;
                        foreach (var (key, row) in rows)
                            row.Value = _groups[key].Done;
                    }
                    all.Description = TerminalText.Markup(Headline());
                    if (task.IsCompleted)
                        break;
                    await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(250), _time, CancellationToken.None))
                        .ConfigureAwait(false);
                }
                result = await task.ConfigureAwait(false);
            })
            .ConfigureAwait(false);
        return result;
    }
}
