// The benchmark tables already exist (created by bench/lib/db.ts); CAP only maps onto them.
// No namespace: entity `account` -> table `account`, `contact` -> table `contact`.

@cds.persistence.exists
entity account {
  key id                : Integer;
      sfid              : String(18);
      name              : String(255);
      billingcity       : String(40);
      industry          : String(40);
      annualrevenue     : Decimal(18, 2);
      numberofemployees : Integer;
      isdeleted         : Boolean;
      createddate       : Timestamp;
      systemmodstamp    : Timestamp;
      description       : LargeString;
}

@cds.persistence.exists
entity contact {
  key id             : Integer;
      sfid           : String(18);
      accountid      : String(18);
      firstname      : String(40);
      lastname       : String(80);
      email          : String(80);
      createddate    : Timestamp;
      systemmodstamp : Timestamp;
      isdeleted      : Boolean;
}
