/**
 * Python's `f"{x:.{digits}f}"` for finite numbers. It differs from `Number.prototype.toFixed` only on exact ties
 * (0.125 to 2 digits): both round the exact binary value, but a tie goes to the even digit in Python and away from
 * zero in JavaScript. A value is a tie at `digits` exactly when x·2^(digits+1) is an odd integer (x = j/2^(digits+1),
 * the only halves of 10^-digits a double can hold), a product that is exact in floating point.
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const halves = x * 2 ** (digits + 1);
  const tie = Number.isSafeInteger(halves) && Math.abs(halves) % 2 === 1;
  if (!tie) return (Object.is(x, -0) ? "-" : "") + x.toFixed(digits);
  const away = Math.abs(x) * 10 ** digits + 0.5; // exact: |x|·10^digits = |j|·5^digits / 2
  const even = away % 2 === 0 ? away : away - 1;
  const sign = x < 0 ? "-" : "";
  return sign + (even / 10 ** digits).toFixed(digits);
}
