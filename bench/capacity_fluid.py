"""The capacity plan's prediction for the capacity benchmark (docs/capacity.md, "Backed by runs").

Executions arrive on a triangular curve (the rate rises linearly from 0 to its peak at the middle of
the window, then falls to 0 at its end) into model pools whose paces add up to `mu` a minute. The
fluid model treats arrivals and slots as continuous flows served first come, first served; the
discrete check places the i-th arrival where the cumulative curve reaches i - 1/2 and gives each
one the earliest slot across the pools, each pool's slots 60 s / its pace apart (ReserveModelSlot's
rule). Both print the makespan (first arrival to last slot), the wait from arrival to slot (p50, p95,
max, in minutes) and the peak number of executions waiting for a slot.

Usage: python3 bench/capacity_fluid.py [COUNT [MINUTES [RPM,RPM,...]]]   (10000 240 20,20,20)
Not a test; nothing runs it but a person checking the plan's arithmetic.
"""

import math
import sys


def percentile(sorted_values, p):
    """The nearest-rank percentile (the value at rank ceil(p/100 * n))."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


class Triangle:
    """Arrivals: rate lam_max * t / (T/2) up to T/2, then symmetric down to 0 at T."""

    def __init__(self, count, minutes):
        self.n, self.t = count, minutes
        self.lam_max = 2 * count / minutes

    def arrived(self, t):
        """A(t), the arrivals by minute t."""
        if t <= 0:
            return 0.0
        if t >= self.t:
            return float(self.n)
        if t <= self.t / 2:
            return self.lam_max * t * t / self.t
        return self.n - self.lam_max * (self.t - t) ** 2 / self.t

    def when(self, a):
        """The minute at which A(t) = a."""
        if a <= self.n / 2:
            return math.sqrt(a * self.t / self.lam_max)
        return self.t - math.sqrt((self.n - a) * self.t / self.lam_max)


def fluid(curve, mu):
    if mu >= curve.lam_max:
        print(f"fluid: the slots ({mu:g}/min) outpace the peak ({curve.lam_max:.2f}/min): nobody waits")
        return
    t1 = (curve.t / 2) * mu / curve.lam_max  # the rate reaches mu: the queue starts
    t2 = curve.t - t1  # the rate falls back to mu: the queue is longest
    a1 = curve.arrived(t1)
    peak = curve.arrived(t2) - a1 - mu * (t2 - t1)
    lo, hi = t2, curve.t  # t3: the slots catch up with the arrivals (bisection)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if curve.arrived(mid) - a1 - mu * (mid - t1) > 0 else (lo, mid)
    t3 = lo
    # Slots too few to catch up before the last arrival: the queue ends when its last slot is given.
    makespan = max(curve.t, t1 + (curve.n - a1) / mu)

    def wait(s):
        return t1 + (curve.arrived(s) - a1) / mu - s if t1 < s < t3 else 0.0

    waits = sorted(wait(curve.when(i - 0.5)) for i in range(1, curve.n + 1))
    print(f"fluid: rate {curve.lam_max:.2f}/min at the peak, {mu:g}/min of slots")
    left = curve.n - a1 - mu * (curve.t - t1)
    ends = (f"empty again at minute {t3:.1f} (A = {curve.arrived(t3):.0f})" if left <= 0
            else f"{left:.0f} still waiting at the last arrival")
    print(f"  queue from minute {t1:.1f} (A = {a1:.0f}), longest at minute {t2:.1f}: {peak:.0f} waiting,"
          f" the wait then {peak / mu:.2f} min; {ends}")
    print(f"  {(curve.arrived(t3) - a1) / curve.n:.1%} of executions wait; wait p50 {percentile(waits, 50):.2f},"
          f" p95 {percentile(waits, 95):.2f}, max {waits[-1]:.2f} min; makespan {makespan:.1f} min"
          f" (arrivals from minute 0 to {curve.t:g})")


def discrete(curve, paces):
    arrivals = [curve.when(i - 0.5) for i in range(1, curve.n + 1)]
    next_at = [0.0] * len(paces)
    slots = []
    for s in arrivals:
        k = min(range(len(paces)), key=lambda j: max(s, next_at[j]))
        slot = max(s, next_at[k])
        next_at[k] = slot + 1 / paces[k]
        slots.append(slot)
    waits = sorted(b - a for a, b in zip(arrivals, slots))
    events = sorted([(a, 1) for a in arrivals] + [(b, -1) for b in slots], key=lambda e: (e[0], e[1]))
    waiting, peak, peak_at = 0, 0, 0.0
    for t, step in events:
        waiting += step
        if waiting > peak:
            peak, peak_at = waiting, t
    print(f"discrete: first arrival at minute {arrivals[0]:.2f}, last at {arrivals[-1]:.2f}")
    print(f"  makespan {slots[-1] - arrivals[0]:.1f} min; wait p50 {percentile(waits, 50):.2f},"
          f" p95 {percentile(waits, 95):.2f}, max {waits[-1]:.2f} min; peak {peak} waiting at minute {peak_at:.1f}")


def main(argv):
    count = int(argv[1]) if len(argv) > 1 else 10_000
    minutes = float(argv[2]) if len(argv) > 2 else 240.0
    paces = [float(p) for p in (argv[3] if len(argv) > 3 else "20,20,20").split(",")]
    curve = Triangle(count, minutes)
    fluid(curve, sum(paces))
    discrete(curve, paces)


if __name__ == "__main__":
    main(sys.argv)
