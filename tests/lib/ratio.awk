# One row of the benchmark table: median(module) / median(stock), with a
# 95% bootstrap interval for that ratio.
#
#   awk -v name=NAME -v target=T -f ratio.awk   <lines "stock NS" | "guard NS">
#
# met: "yes" when the ratio is at most the target; "within noise" when it
# is above but the interval still reaches the target (the difference is
# below what this many measurements can resolve); "no" when the whole
# interval is above it.  The seed is fixed: same data, same row.

function sort_n(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
}

function median(a, n,    b, i) {
	for (i = 1; i <= n; i++)
		b[i] = a[i]
	sort_n(b, n)
	return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}

# the median of n draws from a[1..n], with replacement
function resampled_median(a, n,    b, i) {
	for (i = 1; i <= n; i++)
		b[i] = a[1 + int(rand() * n)]
	return median(b, n)
}

# ns as microseconds, with a decimal where it matters
function us(v) {
	if (v < 1000000)
		return sprintf("%.1f us", v / 1000)
	return sprintf("%.0f us", v / 1000)
}

$1 == "stock" { s[++ns] = $2 + 0 }
$1 == "guard" { g[++ng] = $2 + 0 }

END {
	if (!ns || !ng) {
		printf "| %s | - | - | - | - | - | <= %.2f | no data |\n", name, target
		exit
	}
	srand(1)
	nb = 1000
	for (b = 1; b <= nb; b++)
		r[b] = resampled_median(g, ng) / resampled_median(s, ns)
	sort_n(r, nb)
	lo = r[int(nb * 0.025) + 1]
	hi = r[int(nb * 0.975)]
	ratio = median(g, ng) / median(s, ns)
	point = sprintf("%.3f", ratio) + 0
	if (point <= target + 0)
		met = "yes"
	else if (sprintf("%.3f", lo) + 0 <= target + 0)
		met = "within noise"
	else
		met = "no"
	printf "| %s | %d | %s | %s | %.3f | %.3f-%.3f | <= %.2f | %s |\n",
	       name, ns, us(median(s, ns)), us(median(g, ng)), ratio, lo, hi,
	       target, met
}
