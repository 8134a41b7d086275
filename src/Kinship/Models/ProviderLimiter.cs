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
/// <para>
/// The per-minute rates come from three places, the lowest binding: the config (<see cref="Settings"/>), what the
/// provider announces in its answers' headers (<see cref="ProviderRateHeaders"/>), and what this limiter learns from
/// 429s. A 429 in a storm of them (<see cref="ThrottledShare"/>) holds the whole host for the wait the provider asks for
/// (at most <see cref="MaxHold"/>), so requests in flight do not retry into the wall one by one, and, once per round, when no limit is known and Kinship was sending
/// faster than the provider accepted, sets the learned rate to <see cref="RateCut"/> of the rate the provider accepted over the last
/// <see cref="AcceptedWindow"/> (the hold counted in it); the learned rate then grows by <see cref="RateGrowth"/> of
/// itself a second while the host is not held, and is dropped once it reaches the config's or the provider's limit.
/// </para>
/// Once <see cref="Share"/>d, the per-minute budgets are not refilled here: what this limiter lacks it takes from an
/// <see cref="ISharedRateBudget"/> that every process on the store draws from, one ask at a time, so several workers
/// keep one limit together. Concurrency, holds and learned rates stay each process's own.
/// </summary>
internal sealed class ProviderLimiter
{
    /// <summary>Requests allowed in flight at first (or the maximum, when lower).</summary>
    public const int InitialConcurrency = 4;

    /// <summary>The share of recent requests that must have failed at the server before a server error cuts concurrency.</summary>
    public const double ServerErrorShare = 0.5;

    /// <summary>
    /// The share of recent requests that must have been answered 429 before a 429, while no rate has been learned, holds
    /// the host and teaches one: a storm, as when a start goes past the provider's limit. A 429 now and then among
    /// successes (a provider's brownout) only cuts concurrency and is retried after its own wait.
    /// </summary>
    public const double ThrottledShare = 0.5;

    /// <summary>Weight of each outcome in the moving share of 429s (about the last 5 requests count: four 429s in a row make a storm).</summary>
    private const double ThrottleWeight = 0.2;

    /// <summary>The share of the rate the provider accepted lately that a 429 leaves the learned rate at.</summary>
    public const double RateCut = 0.9;

    /// <summary>How fast a learned rate grows back while the host is not held: this share of itself each second.</summary>
    public const double RateGrowth = 0.005;

    /// <summary>How far back the rate the provider accepted is measured when a 429 sets the learned rate.</summary>
    public static readonly TimeSpan AcceptedWindow = TimeSpan.FromMinutes(1);

    /// <summary>The longest a provider's wait holds the host; a longer wait fails the attempt instead (<see cref="ModelHttp"/>).</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMinutes(1);

    /// <summary>Weight of each outcome in the moving share of server errors (about the last 20 requests count).</summary>
    private const double ErrorWeight = 0.05;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _max;
    private readonly LinkedList<TaskCompletionSource> _waiters = [];
    private readonly Queue<long> _accepted = new();
    private double _limit;
    private bool _slowStart = true;
    private long _cuts;
    private double _errorShare;
    private double _throttledShare;
    private int _inFlight;
    private double _requests;
    private double _tokens;
    private long _refilled;
    private int _announcedRpm;
    private int _announcedTpm;
    private double _learnedRpm;
    private long _grown;
    private long _heldUntil;
    private long? _firstAdmitted;

    public ProviderLimiter(ProviderSettings settings, TimeProvider time)
    {
        Settings = settings;
        _time = time;
        _max = settings.MaxConcurrency;
        _limit = Math.Min(_max, InitialConcurrency);
        _requests = 1;
        _tokens = RateBucket.TokenCapacity(settings.TokensPerMinute);
        _refilled = time.GetTimestamp();
        _grown = _refilled;
        _heldUntil = _refilled;
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

    /// <summary>The limits this limiter was configured with.</summary>
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

    /// <summary>Requests a minute paced at now (0: none): the lowest of the config's, the provider's and the learned rate.</summary>
    public double RequestsPerMinute
    {
        get
        {
            lock (_gate)
            {
                Grow(_time.GetTimestamp());
                return Rpm;
            }
        }
    }

    /// <summary>Tokens a minute paced at now (0: none): the lower of the config's and the provider's.</summary>
    public double TokensPerMinute
    {
        get
        {
            lock (_gate)
                return Tpm;
        }
    }

    private static double Lowest(double configured, double announced) =>
        configured > 0 && announced > 0 ? Math.Min(configured, announced) : Math.Max(configured, announced);

    private double KnownRpm => Lowest(Settings.RequestsPerMinute, _announcedRpm);

    private double Rpm => _learnedRpm > 0 ? Lowest(KnownRpm, _learnedRpm) : KnownRpm;

    private double Tpm => Lowest(Settings.TokensPerMinute, _announcedTpm);

    public async ValueTask<Lease> AcquireAsync(long estimatedTokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            LinkedListNode<TaskCompletionSource>? slot = null;
            TimeSpan wait;
            RateAsk? ask = null;
            ISharedRateBudget? shared;
            lock (_gate)
            {
                var now = _time.GetTimestamp();
                Grow(now);
                shared = _shared;
                if (shared is null)
                    Refill(now);
                var (rpm, tpm) = (Rpm, Tpm);
                // A request bigger than the bucket waits for a full bucket instead of forever, and is charged in full.
                var needed = tpm == 0 ? 0 : Math.Min(estimatedTokens, RateBucket.TokenCapacity(tpm));
                if (_inFlight >= (int)_limit)
                {
                    slot = _waiters.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    wait = Timeout.InfiniteTimeSpan;
                }
                else if (now < _heldUntil)
                    wait = _time.GetElapsedTime(now, _heldUntil);
                else if ((rpm == 0 || _requests >= 1) && (tpm == 0 || _tokens >= needed))
                {
                    _inFlight++;
                    _firstAdmitted ??= now;
                    if (rpm > 0)
                        _requests -= 1;
                    if (tpm > 0)
                        _tokens -= estimatedTokens;
                    return new Lease(this, _cuts);
                }
                else
                {
                    var forRequests = rpm == 0 ? 0 : (1 - _requests) * 60 / rpm;
                    var forTokens = tpm == 0 ? 0 : (needed - _tokens) * 60 / tpm;
                    wait = TimeSpan.FromSeconds(Math.Max(0.001, Math.Max(forRequests, forTokens)));
                    // Shared: one ask in flight at a time, and none before the last one's shortfall can have refilled.
                    if (shared is not null && !_asking && now >= _nextAsk)
                    {
                        _asking = true;
                        ask = new RateAsk(rpm, tpm, Math.Max(0, 1 - _requests), Math.Max(0, needed - _tokens));
                    }
                }
            }
            try
            {
                if (slot is not null)
                    await slot.Value.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                else if (ask is { } shortfall && shared is not null)
                    await TakeSharedAsync(shared, shortfall, cancellationToken).ConfigureAwait(false);
                else
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A caller that gives up leaves the queue, and passes on any wake-up it was given: every free slot
                // goes to a waiter still there, so none is left waiting with nothing in flight to wake it.
                List<TaskCompletionSource> wake;
                lock (_gate)
                {
                    if (slot?.List is not null)
                        _waiters.Remove(slot);
                    wake = TakeWaiters((int)_limit - _inFlight);
                }
                foreach (var w in wake)
                    w.TrySetResult();
                throw;
            }
        }
    }

    /// <summary>The first <paramref name="count"/> waiters, out of the queue, to be woken outside the lock.</summary>
    private List<TaskCompletionSource> TakeWaiters(int count)
    {
        var taken = new List<TaskCompletionSource>(Math.Min(Math.Max(count, 0), _waiters.Count));
        while (taken.Count < count && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            taken.Add(first.Value);
        }
        return taken;
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
                var forRequests = ask.RequestsPerMinute == 0 ? 0 : (ask.Requests - grant.Requests) * 60 / ask.RequestsPerMinute;
                var forTokens = ask.TokensPerMinute == 0 ? 0 : (ask.Tokens - grant.Tokens) * 60 / ask.TokensPerMinute;
                var seconds = Math.Max(0, Math.Max(forRequests, forTokens));
                _nextAsk = _time.GetTimestamp() + (long)(seconds * _time.TimestampFrequency);
                _asking = false;
            }
        }
    }

    private void Release(ProviderOutcome outcome, long admittedAfterCuts, ProviderRateHeaders? headers)
    {
        List<TaskCompletionSource> wake;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            Grow(now);
            _inFlight--;
            if (headers?.RequestsPerMinute is { } announcedRpm)
                _announcedRpm = announcedRpm;
            if (headers?.TokensPerMinute is { } announcedTpm)
                _announcedTpm = announcedTpm;
            var failed = outcome == ProviderOutcome.ServerError;
            var throttled = outcome == ProviderOutcome.Throttled;
            if (outcome != ProviderOutcome.Abandoned)
            {
                _errorShare += ErrorWeight * ((failed ? 1 : 0) - _errorShare);
                _throttledShare += ThrottleWeight * ((throttled ? 1 : 0) - _throttledShare);
            }
            // A storm of 429s, or one the provider's headers say ends a window it has used up, is a limit reached: it
            // holds the host and teaches a rate. Once a rate is learned, any 429 does (LearnRate tells a brownout's apart).
            var storm = throttled && (_throttledShare >= ThrottledShare || headers?.RetryAfter is null && headers?.Wait is not null);
            var learn = storm || throttled && _learnedRpm > 0;
            if (outcome == ProviderOutcome.Success)
            {
                _accepted.Enqueue(now);
                ForgetAccepted(now);
            }
            var hold = TimeSpan.Zero;
            if (learn && headers?.Wait is { } asked && asked > TimeSpan.Zero)
            {
                hold = asked < MaxHold ? asked : MaxHold;
                var until = now + (long)(hold.TotalSeconds * _time.TimestampFrequency);
                if (until > _heldUntil)
                    _heldUntil = until;
            }
            var cut = throttled || (failed && _errorShare >= ServerErrorShare);
            if (cut)
            {
                // One cut per round: requests sent before the last cut report on the old limit.
                if (admittedAfterCuts == _cuts)
                {
                    _limit = Math.Max(1, _limit / 2);
                    if (learn)
                        LearnRate(now, hold);
                    _cuts++;
                }
                _slowStart = false;
            }
            else if (outcome == ProviderOutcome.Success)
                _limit = Math.Min(_max, _limit + (_slowStart ? 1 : 1 / _limit));
            // As many waiters as there are free slots: waking them all would have every one of thousands come back
            // for one slot each time a request ended.
            wake = TakeWaiters((int)_limit - _inFlight);
        }
        foreach (var w in wake)
            w.TrySetResult();
    }

    /// <summary>
    /// After a 429 while pacing faster than the provider accepted (or not pacing at all): the rate it accepted over the
    /// last <see cref="AcceptedWindow"/> (since the first request, when that is later), the <paramref name="hold"/> it
    /// asks for counted in (at least a second in all, at least one request accepted), times <see cref="RateCut"/>. A
    /// 429 while pacing below the accepted rate teaches nothing: a provider that refuses a share of requests whatever
    /// the rate (a brownout) would otherwise cut it again and again.
    /// </summary>
    private void LearnRate(long now, TimeSpan hold)
    {
        // A known limit is paced at already: a 429 under it (a start's burst, a key shared with others) only holds.
        if (KnownRpm > 0)
            return;
        var windowStart = ForgetAccepted(now);
        var since = Math.Max(windowStart, _firstAdmitted ?? now);
        var seconds = Math.Max(1, _time.GetElapsedTime(since, now).TotalSeconds + hold.TotalSeconds);
        var accepted = Math.Max(1, _accepted.Count) * 60 / seconds;
        var paced = Rpm;
        // Pacing below what the provider accepted, the 429 is no sign of the rate: the hold is answer enough.
        if (paced > 0 && paced <= accepted)
            return;
        _learnedRpm = RateCut * accepted;
        _grown = now;
    }

    /// <summary>Drops the successes older than <see cref="AcceptedWindow"/>; returns the window's start.</summary>
    private long ForgetAccepted(long now)
    {
        var windowStart = now - (long)(AcceptedWindow.TotalSeconds * _time.TimestampFrequency);
        while (_accepted.Count > 0 && _accepted.Peek() < windowStart)
            _accepted.Dequeue();
        return windowStart;
    }

    /// <summary>Grows the learned rate for the time since it last grew, unless the host was held; drops it at the known limit.</summary>
    private void Grow(long now)
    {
        if (_learnedRpm > 0 && now > _heldUntil)
        {
            var seconds = _time.GetElapsedTime(Math.Max(_grown, _heldUntil), now).TotalSeconds;
            _learnedRpm *= Math.Exp(RateGrowth * seconds);
            if (KnownRpm > 0 && _learnedRpm >= KnownRpm)
                _learnedRpm = 0;
        }
        _grown = now;
    }

    private void Refill(long now)
    {
        var seconds = _time.GetElapsedTime(_refilled, now).TotalSeconds;
        _refilled = now;
        (_requests, _tokens) = RateBucket.Refill(_requests, _tokens, seconds, Rpm, Tpm);
    }

    /// <summary>One admitted request; <see cref="Complete(ProviderOutcome, ProviderRateHeaders?)"/> tells the limiter how it went.</summary>
    public sealed class Lease(ProviderLimiter owner, long cuts)
    {
        private int _done;

        /// <summary>How the request ended, and what the answer's headers said about the provider's limits, if there was an answer.</summary>
        public void Complete(ProviderOutcome outcome, ProviderRateHeaders? headers = null)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                owner.Release(outcome, cuts, headers);
        }

        public void Complete(bool throttled) => Complete(throttled ? ProviderOutcome.Throttled : ProviderOutcome.Success);
    }
}
