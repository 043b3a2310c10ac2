// The legacy users collection the mongodb example connector reads and
// writes: run it with `mongosh "mongodb://host:27017/app" init.js`.
//
// A document (every field but _id is optional; emails and usernames are
// stored in lower case, and a user has at least one of email, username
// and phone):
//
//   {
//     _id: ObjectId("65f0c0ffee0123456789abcd"),
//     email: "alice@example.com", email_verified: true,
//     username: "alice",
//     phone: "+14155550101", phone_verified: true,
//     nickname: "Alice", name: "Alice Liddell", given_name: "Alice", family_name: "Liddell",
//     photo: "https://...", gender: "f", birthdate: "1852-05-04", address: "...",
//     company: "...", website: "https://...", blocked: false,
//     custom_data: { plan: "pro" },
//     password_hash: "$2a$10$...",          // bcrypt, cost 10; absent: no password
//     created_at: ISODate("2024-02-29T12:34:56Z"),
//     updated_at: ISODate("2024-03-01T08:00:00Z")
//   }
//
// Sparse unique indexes: two users may both lack a phone, never share one.
db.users.createIndex({ email: 1 }, { unique: true, sparse: true });
db.users.createIndex({ username: 1 }, { unique: true, sparse: true });
db.users.createIndex({ phone: 1 }, { unique: true, sparse: true });
