// The CommonJS view of the same declarations (require conditions).
import sdk = require('@pushflo/sdk');
import server = require('@pushflo/sdk/server');
import react = require('@pushflo/sdk/react');

const c: sdk.PushFloClient = new sdk.PushFloClient({ publishKey: 'pub_x', baseUrl: 'http://localhost:8080' });
void c.connectionState;
void new server.PushFloServer({ secretKey: 'sec_x', baseUrl: 'http://localhost:8080' });
void react.useChannel;
