/**
 * What a person is told when they delete a message for everyone: said plainly, because the sender's
 * client cannot make another device forget what it already decrypted.
 */
export const DELETE_FOR_EVERYONE_NOTICE =
  'Deleted for everyone on devices that honour deletion. It cannot be guaranteed: a modified client, or a copy someone already made, may keep the message.';
