#!/usr/bin/env python3
"""Writes the command_sequence seed corpus (fuzz/corpus/command_sequence/).

The seeds are `Input` values of fuzz_targets/command_sequence.rs in the byte encoding of
arbitrary 1.x: an enum variant k of n is the little-endian u32 ((2k+1) << 32) // 2n, u8/u16
are little-endian bytes, a bool or an Option's tag is one byte (& 1), and each op of the
list is preceded by a 1 byte (a 0 ends it). The variant lists below must follow the enums'
declaration order in the target; after changing them, rerun this and check a seed with
`cargo fuzz fmt command_sequence corpus/command_sequence/<seed>`.

    python3 fuzz/gen_command_sequence_seeds.py [OUT_DIR]
"""
import os
import struct
import sys
def enum(k, n):  # variant k of n: a u32 in the middle of its bucket
    return struct.pack('<I', ((2*k+1) << 32) // (2*n))
def u8(x): return bytes([x])
def u16(x): return struct.pack('<H', x)
def boolean(b): return u8(1 if b else 0)
def opt(x, enc): return boolean(False) if x is None else boolean(True) + enc(x)
POLICY = ['Builtin','PrincipalFirst','BonusFirst','NoClawBack','HalfEvenRounding','RoundUp','ShortExpiry','NeverExpires']
STEP = ['Same','Minutes','Days','Year','TwoYears','Back']
AMOUNT = ['Cents','Yuan','Max']
KIND = ['Enroll','Recharge','GrantBonus','Consume','RefundConsumption','RefundBalance','ChangeTier','Settle','Repeat','Freeze','Unfreeze','RedeemPoints','Expire','ReuseId']
def step(s):
    name, *a = s if isinstance(s, tuple) else (s,)
    b = enum(STEP.index(name), len(STEP))
    if name in ('Minutes','Days','Back'): b += u8(a[0])
    return b
def amount(a):
    name, *v = a if isinstance(a, tuple) else (a,)
    b = enum(AMOUNT.index(name), len(AMOUNT))
    if name in ('Cents','Yuan'): b += u16(v[0])
    return b
def kind(k):
    name, *a = k if isinstance(k, tuple) else (k,)
    b = enum(KIND.index(name), len(KIND))
    if name == 'Enroll': b += opt(a[0] if a else None, u8)
    elif name == 'Recharge': b += amount(a[0]) + boolean(a[1] if len(a) > 1 else False)
    elif name == 'GrantBonus': b += amount(a[0]) + opt(a[1] if len(a) > 1 else None, u16)
    elif name == 'Consume': b += amount(a[0]) + boolean(a[1] if len(a) > 1 else False)
    elif name == 'RefundConsumption': b += u8(a[0]) + opt(a[1] if len(a) > 1 else None, amount)
    elif name == 'ChangeTier': b += u8(a[0])
    elif name == 'Settle': b += u8(a[0]) + opt(a[1] if len(a) > 1 else None, amount)
    elif name in ('Repeat',): b += u16(a[0])
    elif name == 'ReuseId': b += u16(a[0]) + amount(a[1])
    elif name == 'Freeze': b += boolean(a[0] if a else False)
    elif name == 'RedeemPoints': b += u16(a[0])
    return b
def op(st, member, store, batch, k):
    return step(st) + u8(member) + u8(store) + boolean(batch) + kind(k)
def seq(policy, ops):
    b = enum(POLICY.index(policy), len(POLICY))
    for o in ops: b += boolean(True) + op(*o)
    return b + boolean(False)

seeds = {
 # The classic story: enroll, recharge, consume at another store, partial refund, settle.
 'design_story': seq('Builtin', [
   (('Minutes',0), 1, 1, False, ('Enroll',)),
   (('Minutes',5), 1, 1, False, ('Recharge',('Yuan',1000),True)),
   (('Days',1), 1, 2, False, ('Consume',('Yuan',300),True)),
   (('Days',1), 1, 2, False, ('RefundConsumption',0,('Yuan',100))),
   (('Days',1), 1, 1, False, ('Settle',2)),
   (('Days',1), 1, 1, False, ('RefundBalance',)),
 ]),
 # Bonus and points expire across a year and two; a tier upgrade by a large recharge.
 'expiries': seq('Builtin', [
   ('Same', 0, 0, False, ('Enroll',)),
   (('Minutes',1), 0, 0, False, ('Recharge',('Yuan',5000))),
   (('Days',3), 0, 1, False, ('Consume',('Yuan',800),True)),
   (('Days',3), 0, 1, False, ('GrantBonus',('Yuan',50),30)),
   ('Year', 0, 2, False, ('Consume',('Cents',1234))),
   ('TwoYears', 0, 1, False, ('RefundConsumption',0)),
   (('Days',1), 0, 0, False, ('Recharge',('Yuan',20000))),
 ]),
 # A batch with two members, a repeat inside the batch and an id reused for other content.
 'batch_idempotency': seq('ShortExpiry', [
   ('Same', 0, 0, True, ('Enroll',1)),
   ('Same', 1, 1, True, ('Enroll',)),
   (('Minutes',10), 0, 0, True, ('Recharge',('Yuan',1000))),
   (('Minutes',10), 1, 1, True, ('Recharge',('Yuan',600))),
   (('Minutes',10), 0, 2, True, ('Consume',('Yuan',200))),
   (('Minutes',10), 0, 2, True, ('Repeat',4)),
   (('Days',8), 1, 2, True, ('Consume',('Cents',99))),
   (('Days',8), 1, 0, False, ('ReuseId',2,('Yuan',1))),
   (('Days',1), 1, 1, False, ('Settle',2,('Cents',50))),
 ]),
 # Rejections: unknown member, out of order, insufficient balance, unknown tier, zero amount.
 'rejections': seq('PrincipalFirst', [
   ('Same', 3, 0, False, ('Consume',('Cents',100))),
   (('Days',2), 3, 0, False, ('Enroll',)),
   (('Back',30), 3, 0, False, ('Recharge',('Cents',100))),
   (('Minutes',60), 3, 0, False, ('Consume',('Yuan',2))),
   (('Minutes',1), 3, 0, False, ('ChangeTier',4)),
   (('Minutes',1), 3, 0, False, ('Recharge',('Cents',0))),
   (('Minutes',1), 3, 0, False, ('Recharge','Max')),
   (('Minutes',1), 3, 1, False, ('GrantBonus',('Yuan',10),0)),
   (('Minutes',1), 3, 1, False, ('Settle',1)),
 ]),
 # Freeze, spending refused while frozen, unfreeze, points redeemed, the expiry sweep.
 'freeze_points_expire': seq('ShortExpiry', [
   ('Same', 0, 0, False, ('Enroll',)),
   (('Minutes',1), 0, 0, False, ('Recharge',('Yuan',1000))),
   (('Minutes',1), 0, 1, False, ('Consume',('Yuan',400),True)),
   (('Minutes',1), 0, 0, False, ('Freeze',True)),
   (('Minutes',1), 0, 1, False, ('Consume',('Yuan',1))),
   (('Minutes',1), 0, 0, False, ('RedeemPoints',10)),
   (('Minutes',1), 0, 0, False, ('Unfreeze',)),
   (('Minutes',1), 0, 0, False, ('RedeemPoints',100)),
   (('Days',8), 0, 0, False, ('Expire',)),
   (('Days',3), 0, 0, False, ('Expire',)),
   (('Minutes',1), 0, 0, False, ('RedeemPoints',0)),
 ]),
 # Bonus-first spending, refunds of part then all, a balance refund without claw-back.
 'refunds': seq('BonusFirst', [
   ('Same', 2, 0, False, ('Enroll',)),
   (('Minutes',1), 2, 0, False, ('Recharge',('Yuan',3000))),
   (('Minutes',1), 2, 1, False, ('Consume',('Yuan',700),True)),
   (('Minutes',1), 2, 1, False, ('Consume',('Cents',4999))),
   (('Minutes',1), 2, 1, False, ('RefundConsumption',0,('Cents',1))),
   (('Minutes',1), 2, 1, False, ('RefundConsumption',0)),
   (('Minutes',1), 2, 1, False, ('RefundConsumption',1,('Yuan',100))),
   (('Minutes',1), 2, 0, False, ('RefundBalance',)),
   (('Minutes',1), 2, 0, False, ('RefundBalance',)),
 ]),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'corpus', 'command_sequence')
for name, b in seeds.items():
    open(os.path.join(out, name), 'wb').write(b)
    print(name, len(b))
