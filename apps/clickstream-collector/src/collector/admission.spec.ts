import { Admission } from './admission';

describe('admission', () => {
  it('admits until either cap would be passed, and again after a release', () => {
    const admission = new Admission(100, 2);
    const a = admission.tryAcquire(60)!;
    expect(admission.tryAcquire(50)).toBeUndefined(); // bytes
    const b = admission.tryAcquire(40)!;
    expect([admission.inFlightBytes, admission.inFlightRequests]).toEqual([100, 2]);
    admission.release(a);
    expect(admission.tryAcquire(10)).toBeDefined();
    expect(admission.tryAcquire(0)).toBeUndefined(); // requests
    admission.release(b);
    expect(admission.inFlightRequests).toBe(1);
  });
});
