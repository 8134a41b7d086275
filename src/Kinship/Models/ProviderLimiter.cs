namespace Kinship.Models;

/// <summary>How a request admitted by a <see cref="ProviderLimiter"/> ended, as far as the provider's load is concerned.</summary>
internal enum ProviderOutcome
{
    /// <summary>An answer (or an error that says nothing about load, such as a 400).</summary>
    Success,

    /// <summary>The provider asked for less: 429, or Anthropic's 529 "overloaded".</summary>
    Throttled,

    /// <summary>A 5xx, or no answer at all: one is a glitch, many in a row are an outage.</summary>
    ServerError,

    /// <summary>The caller gave up before an answer: the slot is freed and nothing is learned.</summary>
    Abandoned,
}

/// <summary>
/// Admission control for one provider: requests in flight (adaptive), requests per minute and tokens per minute.
/// Concurrency starts at <see cref="InitialConcurrency"/> and doubles with every round of successes (slow start) until
/// the provider first pushes back or <see cref="ProviderSettings.MaxConcurrency"/> is reached; from then on it follows
/// AIMD: a 429, or a server error while most recent requests fail (<see cref="ServerErrorShare"/>), halves the limit at
/// most once per round (requests admitted before the last cut do not cut it again), and each success adds <c>1/limit</c>.
/// Per-minute budgets are token buckets refilled continuously that start almost empty (one request, a tenth of a
/// second of tokens) and hold at most a tenth of a second's share (at least one request), so requests are paced at the
/// per-minute rate from the first one: a start, a resume or a pause never fires a minute's requests at once, and no
/// second gets more than about a sixtieth of the minute's budget. Tokens are estimated before the call (request
/// bytes / 4); a request larger than the bucket goes once the bucket is full and leaves it in debt.
/// Once <see cref="Share"/>d, the per-minute budgets are not refilled here: what this limiter lacks it takes from an
/// <see cref="ISharedRateBudget"/> that every process on the store draws from, one ask at a time, so several workers
/// keep one limit together. Concurrency stays each process's own.
/// </summary>
internal sealed class ProviderLimiter
{
    /// <summary>Requests allowed in flight at first (or the maximum, when lower).</summary>
    public const int InitialConcurrency = 4;

    /// <summary>The share of recent requests that must have failed at the server before a server error cuts concurrency.</summary>
    public const double ServerErrorShare = 0.5;

    /// <summary>Weight of each outcome in the moving share of server errors (about the last 20 requests count).</summary>
    private const double ErrorWeight = 0.05;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _max;
    private readonly int _rpm;
    private readonly int _tpm;
    private readonly double _tokenCapacity;
    private readonly List<TaskCompletionSource> _waiters = [];
    private double _limit;
    private bool _slowStart = true;
    private long _cuts;
    private double _errorShare;
    private int _inFlight;
    private double _requests;
    private double _tokens;
    private long _refilled;

    public ProviderLimiter(ProviderSettings settings, TimeProvider time)
    {
        Settings = settings;
        _time = time;
        _max = settings.MaxConcurrency;
        _rpm = settings.RequestsPerMinute;
        _tpm = settings.TokensPerMinute;
        _limit = Math.Min(_max, InitialConcurrency);
        _tokenCapacity = RateBucket.TokenCapacity(_tpm);
        _requests = 1;
        _tokens = _tokenCapacity;
        _refilled = time.GetTimestamp();
    }

    private ISharedRateBudget? _shared;
    private string _sharedKey = "";
    private bool _asking;
    private long _nextAsk;

    /// <summary>
    /// From now on, draws the per-minute budgets from <paramref name="budget"/> under <paramref name="key"/> instead of
    /// refilling them here. What this limiter holds already is kept (at most a tenth of a second's share).
    /// </summary>
    public void Share(ISharedRateBudget budget, string key)
    {
        lock (_gate)
        {
            _shared = budget;
            _sharedKey = key;
        }
    }

    /// <summary>The limits this limiter keeps.</summary>
    public ProviderSettings Settings { get; }

    /// <summary>Requests currently allowed in flight.</summary>
    public int Limit
    {
        get
        {
            lock (_gate)
                return (int)_limit;
        }
    }

    public int InFlight
    {
        get
        {
            lock (_gate)
                return _inFlight;
        }
    }

    public async ValueTask<Lease> AcquireAsync(long estimatedTokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource? slot = null;
            TimeSpan wait;
            RateAsk? ask = null;
            ISharedRateBudget? shared;
            lock (_gate)
            {
                shared = _shared;
                if (shared is null)
                    Refill();
                // A request bigger than the bucket waits for a full bucket instead of forever, and is charged in full.
                var needed = _tpm == 0 ? 0 : Math.Min(estimatedTokens, _tokenCapacity);
                if (_inFlight >= (int)_limit)
                {
                    slot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _waiters.Add(slot);
                    wait = Timeout.InfiniteTimeSpan;
                }
                else if ((_rpm == 0 || _requests >= 1) && (_tpm == 0 || _tokens >= needed))
                {
                    _inFlight++;
                    if (_rpm > 0)
                        _requests -= 1;
                    if (_tpm > 0)
                        _tokens -= estimatedTokens;
                    return new Lease(this, _cuts);
                }
                else
                {
                    var forRequests = _rpm == 0 ? 0 : (1 - _requests) * 60 / _rpm;
                    var forTokens = _tpm == 0 ? 0 : (needed - _tokens) * 60 / _tpm;
                    wait = TimeSpan.FromSeconds(Math.Max(0.001, Math.Max(forRequests, forTokens)));
                    // Shared: one ask in flight at a time, and none before the last one's shortfall can have refilled.
                    if (shared is not null && !_asking && _time.GetTimestamp() >= _nextAsk)
                    {
                        _asking = true;
                        ask = new RateAsk(_rpm, _tpm, Math.Max(0, 1 - _requests), Math.Max(0, needed - _tokens));
                    }
                }
            }
            if (slot is not null)
                await slot.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            else if (ask is { } shortfall && shared is not null)
                await TakeSharedAsync(shared, shortfall, cancellationToken).ConfigureAwait(false);
            else
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the shared budget for what this limiter is short of and keeps what it grants. When the grant falls short,
    /// no caller asks again before the rest could have refilled at the per-minute rate, so waiting callers do not poll
    /// the store; they wait here meanwhile (<see cref="AcquireAsync"/> finds no ask to make and sleeps).
    /// </summary>
    private async Task TakeSharedAsync(ISharedRateBudget shared, RateAsk ask, CancellationToken cancellationToken)
    {
        var grant = new RateGrant(0, 0);
        try
        {
            grant = await shared.TakeAsync(_sharedKey, ask, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A store that cannot be reached grants nothing this time; the ask is made again once it could have refilled.
        }
        finally
        {
            lock (_gate)
            {
                _requests += grant.Requests;
                _tokens += grant.Tokens;
                var forRequests = _rpm == 0 ? 0 : (ask.Requests - grant.Requests) * 60 / _rpm;
                var forTokens = _tpm == 0 ? 0 : (ask.Tokens - grant.Tokens) * 60 / _tpm;
                var seconds = Math.Max(0, Math.Max(forRequests, forTokens));
                _nextAsk = _time.GetTimestamp() + (long)(seconds * _time.TimestampFrequency);
                _asking = false;
            }
        }
    }

    private void Release(ProviderOutcome outcome, long admittedAfterCuts)
    {
        List<TaskCompletionSource> wake;
        lock (_gate)
        {
            _inFlight--;
            var failed = outcome == ProviderOutcome.ServerError;
            if (outcome != ProviderOutcome.Abandoned)
                _errorShare += ErrorWeight * ((failed ? 1 : 0) - _errorShare);
            var cut = outcome == ProviderOutcome.Throttled || (failed && _errorShare >= ServerErrorShare);
            if (cut)
            {
                // One cut per round: requests sent before the last cut report on the old limit.
                if (admittedAfterCuts == _cuts)
                {
                    _limit = Math.Max(1, _limit / 2);
                    _cuts++;
                }
                _slowStart = false;
            }
            else if (outcome == ProviderOutcome.Success)
                _limit = Math.Min(_max, _limit + (_slowStart ? 1 : 1 / _limit));
            wake = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var w in wake)
            w.TrySetResult();
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_refilled, now).TotalSeconds;
        _refilled = now;
        (_requests, _tokens) = RateBucket.Refill(_requests, _tokens, seconds, _rpm, _tpm);
    }

    /// <summary>One admitted request; <see cref="Complete(ProviderOutcome)"/> tells the limiter how it went.</summary>
    public sealed class Lease(ProviderLimiter owner, long cuts)
    {
        private int _done;

        public void Complete(ProviderOutcome outcome)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                owner.Release(outcome, cuts);
        }

        public void Complete(bool throttled) => Complete(throttled ? ProviderOutcome.Throttled : ProviderOutcome.Success);
    }
}
